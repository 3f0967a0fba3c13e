"""Bulk `spfbuild check`: 200 domains from a file against a real BIND 9, as a script runs it.

Every domain must come back, in input order; stdout must be one JSON document; nothing may be
written to stderr when it is not a terminal; and each DNS question must be asked once per run
however many domains share a provider, which BIND's own query log shows.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from support.named import FIXTURE_ZONES, NamedFactory, NamedServer, load_zone_dir

from spfbuild.audit import audit_many
from spfbuild.dns import Resolver

COUNT = 200
BULK = "bulk.check.test"
# Four shapes of real-world records over the fixture's provider trees; none has an error.
SHAPES = (
    "v=spf1 include:_spf.google.com mx -all",
    "v=spf1 include:spf.protection.outlook.com include:sendgrid.net -all",
    "v=spf1 include:_netblocks.mimecast.com a -all",
    "v=spf1 include:servers.mcsv.net include:mail.zendesk.com ~all",
)
_QUERY = re.compile(r"query: (\S+) IN (\S+) (\S+) ")


def bulk_zone() -> str:
    lines = [
        f"$ORIGIN {BULK}.", "$TTL 300",
        f"@ IN SOA ns.{BULK}. hostmaster.{BULK}. 1 3600 900 604800 300",
        f"@ IN NS ns.{BULK}.", "ns IN A 127.0.0.1",
        "mx IN A 192.0.2.25", "mx IN AAAA 2001:db8::25",
    ]
    for i in range(COUNT):
        lines.append(f'd{i:03} IN TXT "{SHAPES[i % len(SHAPES)]}"')
        lines.append(f"d{i:03} IN MX 10 mx.{BULK}.")
        lines.append(f"d{i:03} IN A 192.0.2.{i % 250 + 1}")
    return "\n".join(lines) + "\n"


def names() -> list[str]:
    return [f"d{i:03}.{BULK}" for i in range(COUNT)]


def logged_queries(server: NamedServer) -> list[tuple[str, str, str]]:
    """(name, type, flags) for each query BIND logged; "T" in flags means it came over TCP."""
    text = server.log_path.read_text(encoding="utf-8", errors="replace")
    return [(m.group(1).lower(), m.group(2), m.group(3)) for m in _QUERY.finditer(text)]


def test_200_domains_from_a_file(named_factory: NamedFactory, tmp_path: Path) -> None:
    # A private server, since query logging changes it; the shared `named` must stay as it is.
    bulk_named = named_factory({**load_zone_dir(FIXTURE_ZONES), BULK: bulk_zone()})
    bulk_named.rndc("querylog", "on")
    listing = tmp_path / "domains.txt"
    listing.write_text("# bulk run\n\n" + "\n".join(names()) + "\n")
    before = len(logged_queries(bulk_named))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "spfbuild", "check", "--json", "--from-file", str(listing),
         "--nameserver", bulk_named.nameserver, "--timeout", "4"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert done.stderr == ""  # not a terminal: no progress output
    reports = json.loads(done.stdout)  # the whole of stdout is one JSON document
    assert [r["domain"] for r in reports] == names()
    assert all(r["record"] == SHAPES[i % len(SHAPES)] for i, r in enumerate(reports))
    assert not [f for r in reports for f in r["findings"] if f["severity"] == "error"]
    time.sleep(0.2)  # let named flush its log
    asked = Counter((name, rdtype) for name, rdtype, flags in logged_queries(bulk_named)[before:] if "T" not in flags)
    assert asked[("_spf.google.com", "TXT")] == 1
    assert asked[(f"mx.{BULK}", "A")] == 1
    assert max(asked.values()) == 1, [key for key, n in asked.items() if n > 1]
    assert all(asked[(name, "TXT")] == 1 for name in names())
    assert elapsed < 60


def test_library_asks_each_question_once_across_domains(named: NamedServer) -> None:
    domains = ["clean.check.test", "lookups11.check.test", "mimecast-twice.check.test", "mimecast-mx.check.test"] * 3

    async def run() -> tuple[list[str], Resolver]:
        resolver = Resolver([named.nameserver], timeout=2)
        seen = [report.domain async for report in audit_many(domains, resolver, concurrency=4)]
        return seen, resolver

    seen, resolver = asyncio.run(run())
    assert seen == domains
    asked = Counter((q.name, q.rdtype) for q in resolver.queries)
    assert asked[("_netblocks.mimecast.com", "TXT")] == 1
    assert max(asked.values()) == 1


def test_progress_goes_to_a_terminal_stderr_only(named: NamedServer) -> None:
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "spfbuild", "check", "--json", "--nameserver", named.nameserver,
             "clean.check.test", "two.check.test", "void2.check.test"],
            stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=60, check=False,
        )
        os.close(secondary)
        secondary = -1
        progress = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal is closed once the child has gone
                break
            if not chunk:
                break
            progress += chunk
    finally:
        if secondary != -1:
            os.close(secondary)
        os.close(primary)
    assert [r["domain"] for r in json.loads(done.stdout)] == ["clean.check.test", "two.check.test", "void2.check.test"]
    assert b"checked 1/3" in progress
