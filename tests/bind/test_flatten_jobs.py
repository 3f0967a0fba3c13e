"""A run of many domains shared among processes (`flatten --jobs`, spfbuild.workers) against a real
BIND 9: it emits, reports and exits exactly as one process does, and each DNS question is still
asked once, the questions only the self-check asks (which the processes ask) included; Ctrl-C
stops every process of it at once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from support.named import NamedFactory, NamedServer, fixture_zones

import spfbuild
from bind.test_flatten import zone
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
RELAY = "host.flat.test"
COUNT = 120
MACRO = {n for n in range(COUNT) if n % 13 == 4 and n % 11 != 5}

pytestmark = pytest.mark.skipif(processes_for(COUNT, 2) == 1, reason="this platform cannot fork")


def config_text(count: int = COUNT) -> str:
    """120 domains: 1 to 3 providers and an own range each, every seventh within 3 lookups and
    every thirteenth macro-compiled, one broken, every eleventh keeping a record whose include
    a macro names, and every tenth sending from a relay host all of those share (an `a` term
    of its own record, which its walk asks)."""
    lines = ["defaults:", "  policy: fail", "domains:"]
    for n in range(count):
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
        if n % 10 == 7:
            lines.append(f"      - a: {RELAY}")
        if domain == BROKEN:
            lines.append("      - include: nosuch.flat.test")
    return "\n".join(lines) + "\n"


@pytest.fixture
def server(named_factory: NamedFactory) -> NamedServer:
    zones = fixture_zones()
    zones["nx.example"] = zone("nx.example", [])  # served, so its names do not exist (NXDOMAIN)
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
    assert asked_shared[(RELAY, "A")] == 1  # twelve domains' records ask it, in both processes' shares


def test_the_api_shares_a_run_among_processes_when_asked(server: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "senders.yaml"
    config.write_text(config_text(), encoding="utf-8")
    loaded = spfbuild.load_config(config)
    alone, shared = (spfbuild.flatten(loaded, nameservers=[server.nameserver], jobs=jobs) for jobs in (1, 0))
    assert shared == alone
    assert [r.domain for r in shared if r.error] == [BROKEN]


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name (state, parent, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError):
        return None


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    return [int(e.name) for e in Path("/proc").iterdir()
            if e.name.isdigit() and (stat := _stat(int(e.name))) is not None and int(stat[1]) == pid]


def running(pid: int) -> bool:
    """Whether `pid` is a process that has not finished (a zombie has)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def test_ctrl_c_stops_every_process_at_once_and_writes_nothing(server: NamedServer, tmp_path: Path) -> None:
    config, output = tmp_path / "senders.yaml", tmp_path / "out.json"
    config.write_text(config_text(600), encoding="utf-8")  # computing long enough to be interrupted
    run = subprocess.Popen([sys.executable, "-m", "spfbuild", "flatten", str(config), "--nameserver",
                            server.nameserver, "--output", str(output), "--jobs", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while len(workers := children(run.pid)) < 2 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(workers) == 2, "the run never shared its computing"
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    _, err = run.communicate(timeout=30)
    assert run.returncode == 130, err
    assert not output.exists()
    deadline = time.monotonic() + 5
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [pid for pid in workers if running(pid)], "a process outlived the run"
