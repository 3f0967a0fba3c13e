"""Bulk-check benchmark: `spfbuild check --from-file` over generated domains with realistic records.

    python benchmarks/bench_check.py [--domains 10000] [--latency 20] [--concurrency 200] [--quick] [--json]
                                     [--compare-reader]

The domains live in one generated zone (`bulk.test`), served with the provider fixture zones by
the latency DNS server. Their records mix the providers' includes the way real domains do, and
some are broken: syntax errors, includes of names that do not exist, several SPF records, no SPF
record, names that do not exist, too many lookups, void lookups, `+all`, `ptr`, loops. Reported:
domains per second (wall time of the whole `spfbuild check --json` process, start-up included),
peak memory (the process's maximum resident set), queries the server received, and the findings
the run reported, as a sanity check. Prints figures; asserts nothing about time.

`--compare-reader` also runs the same check with every answer parsed into a dnspython message
(the octet reader, `spfbuild/dns/wire.py`, turned off in the child), interleaved with the usual
runs, three of each: what that reader is worth to a bulk audit.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from benchlib import FIXTURE_ZONES, DNSServer, Run, median, query_stats, run, spfbuild_command, workdir

ZONE = "bulk.test"
SEED = 7208

# (include target, lookups it costs) for the providers the fixture zones model.
INCLUDES = [
    ("spf.protection.outlook.com", 1), ("_spf.google.com", 4), ("_netblocks.mimecast.com", 7),
    ("eu._netblocks.mimecast.com", 1), ("us._netblocks.mimecast.com", 1), ("servers.mcsv.net", 1),
    ("sendgrid.net", 2), ("amazonses.com", 1), ("_spf.salesforce.com", 2), ("mail.zendesk.com", 1),
    ("mx.ovh.com", 3), (f"_spf.hosting.{ZONE}", 6),
]
WEIGHTS = [30, 22, 6, 6, 4, 10, 8, 8, 5, 6, 3, 8]

# `spfbuild` with the octet reader turned off: every UDP answer goes to dnspython's parser.
WITHOUT_OCTET_READER = [
    sys.executable, "-c",
    "import spfbuild.dns.wire as wire; wire.read = lambda *args: None; from spfbuild.cli import main; main()",
]


def generate(count: int, seed: int = SEED) -> tuple[str, list[str], dict[str, int]]:
    """(zone text, the domain list, how many domains of each kind)."""
    rng = random.Random(seed)
    lines = [
        f"$ORIGIN {ZONE}.", "$TTL 300",
        f"@\tIN SOA\tns.{ZONE}. hostmaster.{ZONE}. ( 1 3600 900 604800 300 )",
        f"@\tIN NS\tns.{ZONE}.", "ns\tIN A\t127.0.0.1",
        # A hosting company's shared record, included by many of its customers.
        '_spf.hosting\tIN TXT\t"v=spf1 ip4:198.51.100.0/24 include:spf.protection.outlook.com '
        'include:_spf.google.com ~all"',
        'relay\tIN A\t198.51.100.25', "relay\tIN AAAA\t2001:db8::25",
    ]
    domains: list[str] = []
    kinds: dict[str, int] = {}
    for i in range(count):
        label = f"d{i:05d}"
        name = f"{label}.{ZONE}"
        domains.append(name)
        kind, records, extra = _domain(rng, label)
        kinds[kind] = kinds.get(kind, 0) + 1
        lines += [f'{label}\tIN TXT\t"{text}"' for text in records] + extra
    return "\n".join(lines) + "\n", domains, kinds


def _domain(rng: random.Random, label: str) -> tuple[str, list[str], list[str]]:
    """One domain's kind, its TXT records and any other records it needs."""
    roll = rng.random()
    verification = f"google-site-verification={rng.getrandbits(128):032x}"
    if roll < 0.05:
        return "nxdomain", [], []  # listed, but the name does not exist
    if roll < 0.09:
        return "no-spf", [verification], []
    if roll < 0.12:
        return "multiple", ["v=spf1 include:spf.protection.outlook.com -all", "v=spf1 mx -all"], []
    if roll < 0.17:
        typo = rng.choice(["inlcude:_spf.google.com", "ip4:300.1.2.3", "include:spf.protection.outlook.com -al",
                           "include:servers.mcsv.net \u2013all", "redirect="])
        return "syntax", [f"v=spf1 {typo} -all"], []
    if roll < 0.22:
        return "missing-include", [f"v=spf1 include:spf.protection.outlook.com include:gone-{label}.{ZONE} -all"], []
    if roll < 0.30:
        picks = rng.sample([t for t, _ in INCLUDES], 5)
        return "too-many-lookups", ["v=spf1 " + " ".join(f"include:{t}" for t in picks) + " -all"], []
    if roll < 0.33:
        return "void", [f"v=spf1 a:nx1-{label}.{ZONE} a:nx2-{label}.{ZONE} mx:nx3-{label}.{ZONE} -all"], []
    if roll < 0.35:
        return "permissive", [rng.choice(["v=spf1 +all", "v=spf1 ptr ?all", "v=spf1 include:_spf.google.com"])], []
    if roll < 0.36:
        return "loop", [f"v=spf1 include:{label}.{ZONE} -all"], []
    # Healthy: one to three providers within the 10-lookup budget, own servers, a strict or soft policy.
    terms: list[str] = []
    cost = 0
    for _ in range(rng.choice([1, 1, 2, 2, 2, 3])):
        target, lookups = rng.choices(INCLUDES, WEIGHTS)[0]
        if f"include:{target}" not in terms and cost + lookups <= 8:
            terms.append(f"include:{target}")
            cost += lookups
    extra: list[str] = []
    if rng.random() < 0.25:
        terms.insert(0, "mx")
        extra += [f"{label}\tIN MX\t10 mail.{label}", f"mail.{label}\tIN A\t203.0.113.{rng.randrange(1, 255)}"]
    if rng.random() < 0.3:
        terms.insert(0, f"ip4:192.0.2.{rng.randrange(256)}")
    if rng.random() < 0.1:
        terms.append(f"a:relay.{ZONE}")
    policy = rng.choice(["-all", "-all", "~all", "~all", "?all"])
    records = [f"v=spf1 {' '.join(terms)} {policy}"]
    if rng.random() < 0.5:
        records.append(verification)
    return "healthy", records, extra


@dataclass(frozen=True)
class CheckFigures:
    domains: int
    latency_ms: float
    concurrency: int
    wall_s: float
    domains_per_s: float
    peak_mb: float
    cpu_s: float
    queries_udp: int
    queries_tcp: int
    reported: int
    with_errors: int
    with_warnings_only: int
    kinds: dict[str, int]

    def lines(self) -> list[str]:
        return [
            f"bulk check @ {self.latency_ms:g} ms latency: {self.domains} domains, --concurrency {self.concurrency}",
            f"  wall time          {self.wall_s:.1f} s (CPU {self.cpu_s:.1f} s)",
            f"  throughput         {self.domains_per_s:.0f} domains/s  target >= 500: "
            f"{'met' if self.domains_per_s >= 500 else 'MISSED'}",
            f"  peak memory        {self.peak_mb:.0f} MB  target < 300 MB: {'met' if self.peak_mb < 300 else 'MISSED'}",
            f"  queries sent       {self.queries_udp + self.queries_tcp} ({self.queries_udp} UDP, "
            f"{self.queries_tcp} TCP)",
            f"  reports            {self.reported}: {self.with_errors} with errors, {self.with_warnings_only} "
            f"with warnings only (generated: {', '.join(f'{k} {n}' for k, n in sorted(self.kinds.items()))})",
        ]


@dataclass(frozen=True)
class ReaderFigures:
    """The same check with the octet reader and with dnspython's parser alone (medians)."""

    domains: int
    runs: int
    octets_cpu_s: float
    octets_per_s: float
    dnspython_cpu_s: float
    dnspython_per_s: float
    same_output: bool

    def lines(self) -> list[str]:
        return [
            f"answers read by the octet reader vs parsed by dnspython ({self.domains} domains, {self.runs} runs each)",
            f"  octet reader       {self.octets_per_s:.0f} domains/s, CPU {self.octets_cpu_s:.1f} s",
            f"  dnspython only     {self.dnspython_per_s:.0f} domains/s, CPU {self.dnspython_cpu_s:.1f} s "
            f"({self.dnspython_cpu_s / self.octets_cpu_s:.1f}x the CPU)",
            f"  same reports       {'yes' if self.same_output else 'NO'}",
        ]


def _check(command: list[str], listing: Path, server: DNSServer, concurrency: int) -> Run:
    done = run([*command, "check", "--from-file", str(listing), "--json", "--concurrency", str(concurrency),
                "--nameserver", server.nameserver, "--timeout", "10"])
    if done.returncode not in (0, 1):
        raise SystemExit(f"spfbuild check failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def _served(tmp: Path, count: int) -> tuple[Path, dict[str, int]]:
    zone, domains, kinds = generate(count)
    (tmp / "zones").mkdir()
    (tmp / "zones" / f"{ZONE}.zone").write_text(zone)
    listing = tmp / "domains.txt"
    listing.write_text("# generated by benchmarks/bench_check.py\n" + "\n".join(domains) + "\n")
    return listing, kinds


def compare_readers(count: int, latency_ms: float, concurrency: int, runs: int = 3) -> ReaderFigures:
    with workdir("spfbench-check-") as tmp:
        listing, _ = _served(tmp, count)
        with DNSServer([FIXTURE_ZONES, tmp / "zones"], latency_ms) as server:
            octets: list[Run] = []
            parsed: list[Run] = []
            for _ in range(runs):  # interleaved: the machine's drift falls on both alike
                octets.append(_check(spfbuild_command(), listing, server, concurrency))
                parsed.append(_check(WITHOUT_OCTET_READER, listing, server, concurrency))

    def normal(done: Run) -> list[object]:
        return sorted(json.loads(done.stdout), key=lambda report: str(report.get("domain")))

    return ReaderFigures(
        domains=count, runs=runs,
        octets_cpu_s=median([r.cpu_seconds for r in octets]), octets_per_s=count / median([r.seconds for r in octets]),
        dnspython_cpu_s=median([r.cpu_seconds for r in parsed]),
        dnspython_per_s=count / median([r.seconds for r in parsed]),
        same_output=all(normal(a) == normal(b) for a, b in zip(octets, parsed, strict=True)),
    )


def bench(count: int, latency_ms: float, concurrency: int) -> CheckFigures:
    with workdir("spfbench-check-") as tmp:
        listing, kinds = _served(tmp, count)
        with DNSServer([FIXTURE_ZONES, tmp / "zones"], latency_ms) as server:
            mark = server.mark()
            done = _check(spfbuild_command(), listing, server, concurrency)
            stats = query_stats(server.queries(mark))
    reports = json.loads(done.stdout)
    errors = sum(1 for r in reports if any(f["severity"] == "error" for f in r["findings"]))
    warned = sum(1 for r in reports if r["findings"] and not any(f["severity"] == "error" for f in r["findings"]))
    return CheckFigures(
        domains=count, latency_ms=latency_ms, concurrency=concurrency, wall_s=done.seconds,
        domains_per_s=count / done.seconds, peak_mb=done.max_rss_kb / 1024, cpu_s=done.cpu_seconds,
        queries_udp=stats.udp, queries_tcp=stats.tcp, reported=len(reports), with_errors=errors,
        with_warnings_only=warned, kinds=kinds,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=10_000, help="domains to generate (default 10000)")
    parser.add_argument("--latency", type=float, default=20.0, help="milliseconds (default 20)")
    parser.add_argument("--concurrency", type=int, default=200, help="spfbuild check --concurrency (default 200)")
    parser.add_argument("--quick", action="store_true", help="1000 domains")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--write", type=Path, help="only write the zone and the domain list into this directory")
    parser.add_argument("--compare-reader", action="store_true",
                        help="also time the check with every answer parsed by dnspython (3 interleaved runs each)")
    args = parser.parse_args(argv)
    count = 1000 if args.quick else args.domains
    if args.write is not None:
        zone, domains, _ = generate(count)
        args.write.mkdir(parents=True, exist_ok=True)
        (args.write / f"{ZONE}.zone").write_text(zone)
        (args.write / "domains.txt").write_text("\n".join(domains) + "\n")
        return 0
    found: list[CheckFigures | ReaderFigures] = [bench(count, args.latency, args.concurrency)]
    if args.compare_reader:
        found.append(compare_readers(count, args.latency, args.concurrency))
    if args.json:
        print(json.dumps([asdict(f) for f in found] if len(found) > 1 else asdict(found[0]), indent=2))
    else:
        print("\n".join(line for f in found for line in f.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
