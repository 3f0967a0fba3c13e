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
from dataclasses import replace
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


def run(tenant: Tenant, self_check: bool) -> tuple[float, Flattened]:
    text = f"domain: tenant.example\n{tenant.config}flatten:\n  mode: macro\n  macro_max_records: 1000000\n"
    (spec,) = parse_config(text, "bench.yaml", CATALOGUE).domains
    spec = replace(spec, flatten=replace(spec.flatten, self_check=self_check))
    resolver = resolver_for(tenant)
    asyncio.run(resolver.query("warm.example", "TXT"))  # the resolver's own start, outside the timing
    start = time.perf_counter()
    item = asyncio.run(flatten_domain(spec, CATALOGUE, resolver))
    return time.perf_counter() - start, item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    rows = []
    for name, make in (("17 senders", seventeen), ("40 senders", forty)):
        tenant = make()
        ranges = sum(v.count("ip4:") + v.count("ip6:") for _, t, v in tenant.records if t == "TXT")
        checked = [run(tenant, True) for _ in range(options.runs)]
        unchecked = [run(tenant, False)[0] for _ in range(options.runs)]
        item = checked[0][1]
        assert item.compiled is not None
        compiled = item.compiled.compiled
        rows.append({
            "tenant": name,
            "ranges": ranges,
            "records": compiled.record_count,
            "bytes": sum(len(v) + 1 for _, v in compiled.records()),
            "lookups": item.lookups,
            "main_record_bytes": item.record_set.main.size,
            "checked_addresses": item.checked,
            "seconds_with_self_check": round(statistics.median(t for t, _ in checked), 3),
            "seconds_without_self_check": round(statistics.median(unchecked), 3),
        })
    if options.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'tenant':<11} {'ranges':>6} {'records':>8} {'bytes':>9} {'lookups':>7} {'checked':>8} "
          f"{'with check':>10} {'without':>8}")
    for row in rows:
        print(f"{row['tenant']:<11} {row['ranges']:>6} {row['records']:>8,} {row['bytes']:>9,} {row['lookups']:>7} "
              f"{row['checked_addresses']:>8,} {row['seconds_with_self_check']:>9.2f}s "
              f"{row['seconds_without_self_check']:>7.2f}s")


if __name__ == "__main__":
    main()
