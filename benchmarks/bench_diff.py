"""Drift benchmark: `spfbuild diff` over an MSP's client domains, as a daily job runs it.

    python benchmarks/bench_diff.py [--domains 300] [--latency 20] [--quick] [--json]

The client domains of benchmarks/worlds.py (one to four common providers and an address of their
own each, `max_lookups: 3`) are flattened once by `spfbuild flatten --format zone` against the DNS server
at 0 ms; the records are published in the clients' zone beside each domain's site verification,
and every tenth domain loses its own address from its record (a published record that drifted).
Then `spfbuild diff --json` is timed at the given latency. Reported: wall time (start-up
included), CPU, peak memory, domains in sync and differing (expected: nine in ten, one in ten),
queries sent and distinct (name, type) pairs. Then the 17-sender tenant, published macro-compiled,
is diffed the same way (its compiled names are asked through DNS at every block boundary).
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import worlds
from benchlib import FIXTURE_ZONES, DNSServer, QueryStats, Run, ms, query_stats, run, spfbuild_command, workdir

DRIFTED_EVERY = 10
TARGET_S = 10.0
MAX_LOOKUPS = 3  # most providers flattened into ranges and chained records, as a tight budget makes them


@dataclass(frozen=True)
class DiffFigures:
    domains: int
    latency_ms: float
    wall_s: float
    cpu_s: float
    peak_mb: float
    in_sync: int
    differs: int
    other: int
    queries: int
    distinct: int

    def lines(self) -> list[str]:
        met = "met" if self.wall_s < TARGET_S else "MISSED"
        return [
            f"diff of {self.domains} client domains @ {self.latency_ms:g} ms latency",
            f"  wall time        {ms(self.wall_s)} (CPU {ms(self.cpu_s)}), target < {TARGET_S:g} s: {met}",
            f"  statuses         {self.in_sync} in sync, {self.differs} differ, {self.other} other "
            f"(published: {self.domains - self.domains // DRIFTED_EVERY} as flattened, "
            f"{self.domains // DRIFTED_EVERY} drifted)",
            f"  queries          {self.queries} sent, {self.distinct} distinct (name, type): "
            f"{'met' if self.queries == self.distinct else 'MISSED'}",
            f"  peak memory      {self.peak_mb:.0f} MB",
        ]


def _published(flattened: str, domains: int) -> str:
    """The flattened records as zone lines, every DRIFTED_EVERY-th domain without its own address."""
    own = {domain: address for domain, _, address in worlds.client_domains(domains)}
    order = {domain: n for n, (domain, _, _) in enumerate(worlds.client_domains(domains))}
    lines = []
    for line in flattened.splitlines():
        if not line or line.startswith(("$", ";")):
            continue
        owner = line.split("\t", 1)[0].rstrip(".")
        domain = owner if owner in order else owner.split(".", 1)[-1]  # a chained record is one label below
        if domain in order and order[domain] % DRIFTED_EVERY == 0:
            # The term may end one of the record's strings: `... ip4:10.200.0.10" " include:...`.
            line = re.sub(rf"ip4:{re.escape(own[domain])}(?=[ \"]) ?", "", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def bench(domains: int, latency_ms: float) -> DiffFigures:
    with workdir("spfbench-diff-") as tmp:
        zones = tmp / "zones"
        zones.mkdir()
        worlds.write_tenant_zones(zones)
        worlds.write_clients_zone(zones, domains)
        config = tmp / "clients.yaml"
        config.write_text(worlds.clients_config(domains, MAX_LOOKUPS))
        flat = _flattened(config, zones)
        clients = zones / f"{worlds.CLIENTS_ZONE}.zone"
        clients.write_text(clients.read_text() + _published(flat, domains))
        done, stats = _diffed(config, zones, latency_ms)
    statuses = [item["status"] for item in json.loads(done.stdout)]
    in_sync, differs = statuses.count("in sync"), statuses.count("differs")
    return DiffFigures(domains, latency_ms, done.seconds, done.cpu_seconds, done.max_rss_kb / 1024, in_sync,
                       differs, len(statuses) - in_sync - differs, stats.sent, stats.distinct)


def _flattened(config: Path, zones: Path) -> str:
    """`spfbuild flatten --format zone` of `config` against the zones, without latency."""
    with DNSServer([FIXTURE_ZONES, zones], 0) as server:
        flat = run([*spfbuild_command(), "flatten", str(config), "--format", "zone", "--nameserver", server.nameserver])
    if flat.returncode != 0:
        raise SystemExit(f"spfbuild flatten failed ({flat.returncode}): {flat.stderr[-2000:]}")
    return flat.stdout


def _diffed(config: Path, zones: Path, latency_ms: float) -> tuple[Run, QueryStats]:
    """`spfbuild diff --json` of `config` at `latency_ms`, and the questions it asked."""
    with DNSServer([FIXTURE_ZONES, zones], latency_ms) as server:
        mark = server.mark()
        done = run([*spfbuild_command(), "diff", str(config), "--json", "--nameserver", server.nameserver,
                    "--timeout", "10"])
        stats = query_stats(server.queries(mark))
    if done.returncode not in (0, 2):
        raise SystemExit(f"spfbuild diff failed ({done.returncode}): {done.stderr[-2000:]}")
    return done, stats


@dataclass(frozen=True)
class CompiledFigures:
    latency_ms: float
    records: int  # the compiled zone's records
    wall_s: float
    cpu_s: float
    status: str
    intervals: int  # compared: the boundaries of both sides
    queries: int
    distinct: int

    def lines(self) -> list[str]:
        return [
            f"diff of the 17-sender tenant published macro-compiled ({self.records:,} records) @ "
            f"{self.latency_ms:g} ms latency",
            f"  wall time        {ms(self.wall_s)} (CPU {ms(self.cpu_s)}): {self.status}, {self.intervals:,} "
            "intervals compared",
            f"  queries          {self.queries} sent, {self.distinct} distinct (name, type): "
            f"{'met' if self.queries == self.distinct else 'MISSED'}",
        ]


def compiled(latency_ms: float) -> CompiledFigures:
    """The tenant of benchmarks/worlds.py compiled (`flatten.mode: macro`) and published in its
    zone: a compiled publication is resolved through DNS at every block boundary, one name each."""
    config_text = worlds.TENANT_CONFIG + "flatten:\n  mode: macro\n"
    with workdir("spfbench-diff-compiled-") as tmp:
        zones = tmp / "zones"
        zones.mkdir()
        worlds.write_tenant_zones(zones)
        config = tmp / "tenant.yaml"
        config.write_text(config_text)
        flat = _flattened(config, zones)
        published = [line for line in flat.splitlines() if line and not line.startswith(("$", ";"))]
        tenant = zones / f"{worlds.TENANT}.zone"
        tenant.write_text(tenant.read_text() + "\n".join(published) + "\n")
        done, stats = _diffed(config, zones, latency_ms)
    (item,) = json.loads(done.stdout)
    return CompiledFigures(latency_ms, len(published) - 1, done.seconds, done.cpu_seconds, item["status"],
                           item["checked_intervals"], stats.sent, stats.distinct)


def markdown_row(f: DiffFigures) -> str:
    met = "met" if f.wall_s < TARGET_S and f.queries == f.distinct else "**missed**"
    return (f"| Diff {f.domains:,} client domains, {f.latency_ms:g} ms | {ms(f.wall_s)} (CPU {ms(f.cpu_s)}), "
            f"{f.peak_mb:.0f} MB, {f.queries} queries / {f.distinct} distinct | < {TARGET_S:g} s, each asked once | "
            f"{met} |")


def compiled_row(f: CompiledFigures) -> str:
    ok = f.status == "in sync" and f.queries == f.distinct
    return (f"| Diff of the 17-sender tenant published macro-compiled ({f.records:,} records), {f.latency_ms:g} ms | "
            f"{ms(f.wall_s)} (CPU {ms(f.cpu_s)}), {f.intervals:,} intervals, {f.queries} queries / {f.distinct} "
            f"distinct | in sync, each asked once | {'met' if ok else '**missed**'} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=300, help="client domains (default 300)")
    parser.add_argument("--latency", type=float, default=20.0, help="milliseconds (default 20)")
    parser.add_argument("--quick", action="store_true", help="50 domains")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the README's Performance rows")
    parser.add_argument("--no-compiled", action="store_true", help="skip the macro-compiled tenant")
    args = parser.parse_args(argv)
    figures = bench(50 if args.quick else args.domains, args.latency)
    tenant = None if args.no_compiled else compiled(args.latency)
    if args.markdown:
        print(markdown_row(figures))
        if tenant is not None:
            print(compiled_row(tenant))
    elif args.json:
        print(json.dumps({"clients": asdict(figures), "compiled": asdict(tenant) if tenant else None}, indent=2))
    else:
        print("\n".join([*figures.lines(), *(tenant.lines() if tenant else [])]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
