"""Macro-compiled SPF: records and bytes of the compiled zone, and compile time with and without
the self-check, for the two tenant fixtures of tests/support/tenants.py (the 17 senders of the
capacity issue; 40 senders of about 1,200 ranges).

In process, with the senders' records answered from memory: the figures are the compiler's and
the self-check's CPU, not the network's (flatten resolves the same tree in either mode).

    python benchmarks/bench_macro.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.memresolver import MemoryResolver
from support.tenants import Tenant, forty, seventeen

from spfbuild.catalogue import load_catalogue
from spfbuild.config import parse_config
from spfbuild.flattening import Flattened, flatten_domain

CATALOGUE = load_catalogue()


def resolver_for(tenant: Tenant) -> MemoryResolver:
    resolver = MemoryResolver()
    for owner, rtype, value in tenant.records:
        if rtype == "TXT":
            resolver.txt(owner, "".join(shlex.split(value)))
        elif rtype == "MX":
            preference, exchange = value.split()
            resolver.add(owner, "MX", (int(preference), exchange))
        else:
            resolver.add(owner, rtype, value)
    return resolver


TARGET_S = 2.0  # the 40-sender tenant, self-check included (issue: macro-compiled SPF)


@dataclass(frozen=True)
class MacroFigures:
    tenant: str
    ranges: int
    records: int
    bytes: int
    lookups: int
    main_record_bytes: int
    checked_addresses: int
    seconds_with_self_check: float
    cpu_with_self_check: float
    seconds_without_self_check: float
    cpu_without_self_check: float

    def row(self) -> str:
        return (f"{self.tenant:<11} {self.ranges:>6} {self.records:>8,} {self.bytes:>9,} {self.lookups:>7} "
                f"{self.checked_addresses:>8,} {self.seconds_with_self_check:>6.2f}s "
                f"(CPU {self.cpu_with_self_check:.2f}s) {self.seconds_without_self_check:>6.2f}s "
                f"(CPU {self.cpu_without_self_check:.2f}s)")

    def markdown(self) -> str:
        target = f"< {TARGET_S:g} s" if self.tenant.startswith("40") else "-"
        verdict = ("met" if self.seconds_with_self_check < TARGET_S else "**missed**") if target != "-" else "-"
        return (f"| Macro-compiled, {self.tenant}, {self.ranges:,} ranges, self-check on | {self.records:,} records, "
                f"{self.bytes:,} bytes, {self.lookups} lookup(s); {ms(self.seconds_with_self_check)} "
                f"(CPU {ms(self.cpu_with_self_check)}; {self.checked_addresses:,} addresses; without the self-check "
                f"{ms(self.seconds_without_self_check)}) | {target} | {verdict} |")


HEADER = (f"{'tenant':<11} {'ranges':>6} {'records':>8} {'bytes':>9} {'lookups':>7} {'checked':>8} "
          f"{'with check':>20} {'without':>20}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def run(tenant: Tenant, self_check: bool) -> tuple[float, float, Flattened]:
    """(wall seconds, CPU seconds, the flattening) of one compile."""
    text = f"domain: tenant.example\n{tenant.config}flatten:\n  mode: macro\n  macro_max_records: 1000000\n"
    (spec,) = parse_config(text, "bench.yaml", CATALOGUE).domains
    spec = replace(spec, flatten=replace(spec.flatten, self_check=self_check))
    resolver = resolver_for(tenant)
    asyncio.run(resolver.query("warm.example", "TXT"))  # the resolver's own start, outside the timing
    start, cpu = time.perf_counter(), time.process_time()
    item = asyncio.run(flatten_domain(spec, CATALOGUE, resolver))
    return time.perf_counter() - start, time.process_time() - cpu, item


def bench(runs: int) -> list[MacroFigures]:
    figures = []
    for name, make in (("17 senders", seventeen), ("40 senders", forty)):
        tenant = make()
        ranges = sum(v.count("ip4:") + v.count("ip6:") for _, t, v in tenant.records if t == "TXT")
        checked = [run(tenant, True) for _ in range(runs)]
        unchecked = [run(tenant, False) for _ in range(runs)]
        item = checked[0][2]
        assert item.compiled is not None
        compiled = item.compiled.compiled
        figures.append(MacroFigures(
            tenant=name, ranges=ranges, records=compiled.record_count,
            bytes=sum(len(v) + 1 for _, v in compiled.records()), lookups=item.lookups,
            main_record_bytes=item.record_set.main.size, checked_addresses=item.checked,
            seconds_with_self_check=statistics.median(t for t, _, _ in checked),
            cpu_with_self_check=statistics.median(c for _, c, _ in checked),
            seconds_without_self_check=statistics.median(t for t, _, _ in unchecked),
            cpu_without_self_check=statistics.median(c for _, c, _ in unchecked),
        ))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    figures = bench(options.runs)
    if options.json:
        print(json.dumps([asdict(f) for f in figures], indent=2))
        return
    print(HEADER)
    for f in figures:
        print(f.row())


if __name__ == "__main__":
    main()
