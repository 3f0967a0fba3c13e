"""A run of many domains shared among processes (`flatten --jobs`, spfbuild.workers) against a real
BIND 9: it emits, reports and exits exactly as one process does, and each DNS question is still
asked once, the questions only the self-check asks (which the processes ask) included."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from support.named import FIXTURE_ZONES, NamedFactory, NamedServer

from spfbuild.catalogue import load_catalogue
from spfbuild.config import parse_config
from spfbuild.dns import Resolver
from spfbuild.failure import DomainFailure
from spfbuild.flattening import Flattened, flatten_all
from spfbuild.workers import processes_for

PROVIDERS = ("office365", "google", "mailchimp", "sendgrid", "amazon-ses", "zendesk")
BROKEN = "c017.jobs.test"  # includes a name with no SPF record
# The include's target does not exist (permerror for everyone): kept in place, and only the
# self-check's evaluation asks for it, one name per domain.
NX_INCLUDE = "v=spf1 include:%{d}.nx.example ip4:198.51.100.0/24 -all"
COUNT = 120
MACRO = {n for n in range(COUNT) if n % 13 == 4 and n % 11 != 5}

pytestmark = pytest.mark.skipif(processes_for(COUNT, 2) == 1, reason="this platform cannot fork")


def config_text() -> str:
    """120 domains: 1 to 3 providers and an own range each, every seventh within 3 lookups and
    every thirteenth macro-compiled, one broken, and every eleventh keeping a record whose include
    a macro names."""
    lines = ["defaults:", "  policy: fail", "domains:"]
    for n in range(COUNT):
        domain = f"c{n:03}.jobs.test"
        lines.append(f"  {domain}:")
        if n % 11 == 5:
            lines.append(f'    existing: "{NX_INCLUDE}"')
            continue
        if n in MACRO:
            lines += ["    flatten:", "      mode: macro"]
        elif n % 7 == 3:
            lines += ["    flatten:", "      max_lookups: 3"]
        lines.append("    senders:")
        lines += [f"      - provider: {PROVIDERS[(n + k) % len(PROVIDERS)]}" for k in range(1 + n % 3)]
        lines.append(f"      - ip4: [10.20.{n // 256}.{n % 256}]")
        if domain == BROKEN:
            lines.append("      - include: nosuch.flat.test")
    return "\n".join(lines) + "\n"


@pytest.fixture
def server(named_factory: NamedFactory) -> NamedServer:
    zones = {p.name.removesuffix(".zone"): p.read_text() for p in FIXTURE_ZONES.glob("*.zone")}
    zones["nx.example"] = ("$TTL 300\n@ IN SOA ns.nx.example. hostmaster.nx.example. ( 1 3600 900 604800 300 )\n"
                           "@ IN NS ns.nx.example.\nns IN A 127.0.0.1\n")
    return named_factory(zones)


def flatten_cli(config: Path, nameserver: str, jobs: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfbuild", "flatten", str(config), "--nameserver", nameserver,
                           "-F", "json", "--jobs", str(jobs)], capture_output=True, text=True, timeout=120)


def test_processes_emit_report_and_exit_as_one_process_does(server: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "senders.yaml"
    config.write_text(config_text(), encoding="utf-8")
    alone, shared = (flatten_cli(config, server.nameserver, jobs) for jobs in (1, 2))
    assert alone.returncode == 1, alone.stderr  # the broken domain
    assert (shared.returncode, shared.stdout, shared.stderr) == (alone.returncode, alone.stdout, alone.stderr)
    emitted = json.loads(shared.stdout)
    assert len(emitted) == COUNT - 1 and BROKEN not in {item["domain"] for item in emitted}
    assert all(item["self_checked_addresses"] > 0 for item in emitted)
    compiled = {item["domain"] for item in emitted if "compiled" in item}
    assert compiled == {f"c{n:03}.jobs.test" for n in MACRO} - {BROKEN}


def flattened(nameserver: str, jobs: int) -> tuple[list[Flattened | DomainFailure], Counter[tuple[str, str]]]:
    catalogue = load_catalogue()
    cfg = parse_config(config_text(), "senders.yaml", catalogue)
    resolver = Resolver([nameserver], timeout=2)
    results = asyncio.run(flatten_all(cfg.domains, catalogue, resolver, jobs=jobs))
    return results, Counter((q.name.lower(), q.rdtype) for q in resolver.queries)


def test_each_question_is_still_asked_once_and_recorded(server: NamedServer) -> None:
    alone, asked_alone = flattened(server.nameserver, 1)
    shared, asked_shared = flattened(server.nameserver, 2)
    assert shared == alone
    assert asked_shared == asked_alone
    assert max(asked_shared.values()) == 1
    # The questions only the self-check asks, in the processes, are in the run's record.
    assert ("c005.jobs.test.nx.example", "TXT") in asked_shared
