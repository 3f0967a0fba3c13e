"""Flatten benchmark: `spfbuild flatten` over every catalogue provider the fixture zones model.

    python benchmarks/bench_flatten.py [--latency 20] [--latency 50] [--runs 5] [--quick] [--json]

A latency DNS server (benchmarks/dnsserver.py) serves tests/bind/zones plus a zone for the two
benchmark domains; `spfbuild flatten --nameserver` runs against it as a user runs it (a fresh
process each time, start-up included). Reported per latency: median wall time, CPU time, the
queries the server received (UDP and TCP), the distinct (name, type) pairs among them, the pairs
the include tree needs (walked offline from the zone data), the include tree's depth, and the
target: the CLI's start-up (`spfbuild --help`) plus (depth + 2) x latency. Also the same run
against the server with no latency (the fixed cost: start-up, imports, config, the flattening's
own work and the self-check) and the network's share of the wall time, the difference, against
the (depth + 2) x latency it may take. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    FIXTURE_ZONES,
    MODELLED_PROVIDERS,
    DNSServer,
    Query,
    median,
    ms,
    print_figures,
    query_stats,
    run,
    spfbuild_command,
    startup_seconds,
    workdir,
)

DOMAINS = {
    # A company's mail: mailbox, gateway, CRM, helpdesk ...
    "bench.example": ("fail", ("office365", "google", "mimecast", "salesforce", "zendesk")),
    # ... and its marketing subdomain. One domain cannot hold all nine within 10 lookups.
    "marketing.bench.example": ("softfail", ("mailchimp", "sendgrid", "amazon-ses", "ovh")),
}
assert sorted(p for _, ps in DOMAINS.values() for p in ps) == sorted(MODELLED_PROVIDERS)

BENCH_ZONE = """$ORIGIN bench.example.
$TTL 300
@\tIN SOA\tns.bench.example. hostmaster.bench.example. ( 1 3600 900 604800 300 )
@\tIN NS\tns.bench.example.
ns\tIN A\t127.0.0.1
@\tIN TXT\t"google-site-verification=Yw7f1m0dT6x2PqN9c3JbVhKzR8sLa4UeWgXo5iDyCjE"
@\tIN TXT\t"MS=ms81726354"
marketing\tIN TXT\t"v=spf1 include:servers.mcsv.net ~all"
"""


def config_text(self_check: bool = True) -> str:
    lines = ["domains:"]
    for domain, (policy, providers) in DOMAINS.items():
        lines += [f"  {domain}:", f"    policy: {policy}", "    senders:"]
        lines += [f"      - provider: {p}" for p in providers]
        if not self_check:
            lines += ["    flatten:", "      self_check: false"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class TreeNeeds:
    pairs: frozenset[tuple[str, str]]  # (name, TYPE) the flattening needs
    depth: int  # include/redirect levels below the configured domains' records
    dynamic: int  # terms that depend on the sender (exists/ptr/macros): not resolvable ahead


def tree_needs(zone_dirs: list[Path], config: str | None = None) -> TreeNeeds:
    """Walk the configured domains' trees in the zone data, as a resolver would see them
    (`config`: another benchmark's config text instead of this one's)."""
    import dns.message
    import dns.rdatatype
    from dnsserver import Authority, load_zones

    from spfbuild.catalogue import load_catalogue
    from spfbuild.compose import compose
    from spfbuild.config import parse_config

    authority = Authority(load_zones(zone_dirs, []))

    def ask(name: str, rdtype: str) -> list[str]:
        response = authority.respond(dns.message.make_query(name, rdtype))
        wanted = dns.rdatatype.from_text(rdtype)
        out = []
        for rrset in response.answer:
            if rrset.rdtype == wanted:
                for rdata in rrset:
                    if rdtype == "TXT":
                        out.append(b"".join(rdata.strings).decode())
                    elif rdtype == "MX":
                        out.append(rdata.exchange.to_text(omit_final_dot=True))
                    else:
                        out.append(rdata.to_text())
        return out

    pairs: set[tuple[str, str]] = set()
    dynamic = 0

    def need(name: str, rdtype: str) -> list[str]:
        pairs.add((name.lower().rstrip("."), rdtype))
        return ask(name, rdtype)

    def walk(terms: list[str], domain: str, depth: int) -> int:
        nonlocal dynamic
        deepest = depth
        for term in terms:
            body = term.lstrip("+-~?")
            kind, _, value = body.partition(":") if ":" in body else body.partition("=")
            kind = kind.lower()
            target = (value.split("/")[0] or domain) if kind in ("a", "mx") else value
            if "%" in target or kind == "ptr":
                dynamic += 1
                continue
            if kind in ("include", "redirect"):
                records = [t for t in need(target, "TXT") if t.lower().startswith("v=spf1")]
                if records:
                    deepest = max(deepest, walk(records[0].split()[1:], target, depth + 1))
            elif kind == "a":
                need(target, "A")
                need(target, "AAAA")
            elif kind == "mx":
                for host in need(target, "MX"):
                    need(host, "A")
                    need(host, "AAAA")
            elif kind == "exists":
                need(target, "A")
        return deepest

    catalogue = load_catalogue()
    depth = 0
    for spec in parse_config(config or config_text(), "bench.yaml", catalogue).domains:
        need(spec.domain, "TXT")  # the main record's byte budget: the other TXT records at the name
        record = str(compose(spec, catalogue).record)
        depth = max(depth, walk(record.split()[1:], spec.domain, 0))
    return TreeNeeds(frozenset(pairs), depth, dynamic)


@dataclass(frozen=True)
class FlattenFigures:
    latency_ms: float
    runs: int
    wall_s: float  # median
    wall_min_s: float
    cpu_s: float  # median user + system time of the spfbuild process
    wall_no_selfcheck_s: float
    wall_zero_latency_s: float  # median wall time against the same server answering at once
    cpu_zero_latency_s: float
    startup_s: float  # `spfbuild --help`, median
    queries_udp: int  # per run
    queries_tcp: int
    distinct_pairs: int
    tree_pairs: int
    repeated: dict[str, int]
    extra_pairs: list[str]  # asked but not needed by the tree
    depth: int
    target_s: float
    ok: bool

    @property
    def network_s(self) -> float:
        """What waiting for the network adds to the run: the wall time less the fixed cost."""
        return self.wall_s - self.wall_zero_latency_s

    @property
    def network_budget_s(self) -> float:
        return (self.depth + 2) * self.latency_ms / 1000

    def lines(self) -> list[str]:
        def met(good: bool) -> str:
            return "met" if good else "MISSED"

        return [
            f"flatten @ {self.latency_ms:g} ms latency ({self.runs} runs, 9 providers, 2 domains)",
            f"  wall time           {ms(self.wall_s)} median ({ms(self.wall_min_s)} best), "
            f"CPU {ms(self.cpu_s)}; without the self-check {ms(self.wall_no_selfcheck_s)}",
            f"  target              start-up {ms(self.startup_s)} + (depth {self.depth} + 2) x "
            f"{self.latency_ms:g} ms = {ms(self.target_s)}: {met(self.wall_s <= self.target_s)}",
            f"  fixed cost          {ms(self.wall_zero_latency_s)} at 0 ms latency "
            f"(CPU {ms(self.cpu_zero_latency_s)}); "
            f"the network adds {ms(self.network_s)}, within (depth {self.depth} + 2) x {self.latency_ms:g} ms = "
            f"{ms(self.network_budget_s)}: {met(self.network_s <= self.network_budget_s)}",
            f"  queries sent        {self.queries_udp + self.queries_tcp} ({self.queries_udp} UDP, "
            f"{self.queries_tcp} TCP after truncation)",
            f"  distinct pairs      {self.distinct_pairs} asked; the tree needs {self.tree_pairs}: "
            f"{met(self.queries_udp == self.distinct_pairs and not self.extra_pairs)}"
            + (f"; repeated {_some(self.repeated)}" if self.repeated else "")
            + (f"; {len(self.extra_pairs)} not needed: {_some(self.extra_pairs)}" if self.extra_pairs else ""),
            f"  include tree depth  {self.depth}",
        ]


def _some(items: dict[str, int] | list[str], shown: int = 4) -> str:
    listed = [f"{k} x{v}" for k, v in items.items()] if isinstance(items, dict) else list(items)
    return ", ".join(listed[:shown]) + (f", ... ({len(listed) - shown} more)" if len(listed) > shown else "")


def bench(latency_ms: float, runs: int, needs: TreeNeeds) -> FlattenFigures:
    with workdir("spfbench-flatten-") as tmp:
        (tmp / "zones").mkdir()
        (tmp / "zones" / "bench.example.zone").write_text(BENCH_ZONE)
        config = tmp / "senders.yaml"
        config.write_text(config_text())
        unchecked = tmp / "unchecked.yaml"
        unchecked.write_text(config_text(self_check=False))
        startup = startup_seconds([*spfbuild_command(), "--help"], max(5, runs))
        with DNSServer([FIXTURE_ZONES, tmp / "zones"], latency_ms) as server:
            command = [*spfbuild_command(), "flatten", str(config), "--nameserver", server.nameserver]
            run(command)  # warm-up: bytecode and file caches
            walls, cpus, per_run = [], [], []
            for _ in range(runs):
                mark = server.mark()
                done = run(command)
                if done.returncode != 0:
                    raise SystemExit(f"spfbuild flatten failed ({done.returncode}): {done.stderr}")
                walls.append(done.seconds)
                cpus.append(done.cpu_seconds)
                per_run.append(server.queries(mark))
            quick = [run([*spfbuild_command(), "flatten", str(unchecked), "--nameserver", server.nameserver]).seconds
                     for _ in range(max(1, runs // 2))]
        with DNSServer([FIXTURE_ZONES, tmp / "zones"], 0) as instant:
            command = [*spfbuild_command(), "flatten", str(config), "--nameserver", instant.nameserver]
            run(command)
            fixed = [run(command) for _ in range(runs)]
    queries: list[Query] = per_run[-1]
    stats = query_stats(queries)
    asked = {(q.name, q.rdtype) for q in queries}
    wall = median(walls)
    target = startup + (needs.depth + 2) * latency_ms / 1000
    return FlattenFigures(
        latency_ms=latency_ms, runs=runs, wall_s=wall, wall_min_s=min(walls), cpu_s=median(cpus),
        wall_no_selfcheck_s=median(quick), wall_zero_latency_s=median([r.seconds for r in fixed]),
        cpu_zero_latency_s=median([r.cpu_seconds for r in fixed]), startup_s=startup, queries_udp=stats.udp,
        queries_tcp=stats.tcp,
        distinct_pairs=stats.distinct, tree_pairs=len(needs.pairs),
        repeated={f"{n} {t}": c for (n, t), c in stats.repeated.items()},
        extra_pairs=sorted(f"{n} {t}" for n, t in asked - needs.pairs), depth=needs.depth, target_s=target,
        ok=wall <= target,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, action="append", help="milliseconds (repeatable; default 20)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per latency (default 5)")
    parser.add_argument("--quick", action="store_true", help="2 runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    runs = 2 if args.quick else args.runs
    with workdir("spfbench-zone-") as tmp:
        (tmp / "bench.example.zone").write_text(BENCH_ZONE)
        needs = tree_needs([FIXTURE_ZONES, tmp])
    figures = [bench(latency, runs, needs) for latency in (args.latency or [20.0])]
    print_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
