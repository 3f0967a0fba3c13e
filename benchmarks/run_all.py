"""Run every benchmark and print one summary: figures, targets, the machine.

    python benchmarks/run_all.py            # about two minutes on 2 cores
    python benchmarks/run_all.py --quick    # smaller runs
    python benchmarks/run_all.py --markdown # the summary as the README's Performance section

Each benchmark starts its own latency DNS server (benchmarks/dnsserver.py) on a free loopback
port. The peer benchmark installs sender-policy-flattener into its own virtual environment
(--peer-venv, default /tmp/spfbench-peer) on first use; --no-peer skips it. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import bench_capacity
import bench_check
import bench_diff
import bench_flatten
import bench_macro
import bench_peer
import bench_startup
from benchlib import FIXTURE_ZONES, machine, ms, workdir

COMMAND = "python benchmarks/run_all.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 1000 domains")
    parser.add_argument("--runs", type=int, help="flatten runs per latency (default 5; --quick 2)")
    parser.add_argument("--domains", type=int, help="bulk-check domains (default 10000; --quick 1000)")
    parser.add_argument("--startup-runs", type=int, help="runs per start-up command (default 20; --quick 5)")
    parser.add_argument("--latency", type=float, action="append", help="flatten/peer latencies (default 20, 50)")
    parser.add_argument("--no-peer", action="store_true", help="skip sender-policy-flattener")
    parser.add_argument("--peer-venv", type=Path, default=bench_peer.DEFAULT_VENV)
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the README's Performance section")
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.quick else 5)
    domains = args.domains or (1000 if args.quick else 10_000)
    startup_runs = args.startup_runs or (5 if args.quick else 20)
    latencies = args.latency or [20.0, 50.0]
    started = time.perf_counter()

    with workdir("spfbench-zone-") as tmp:
        (tmp / "bench.example.zone").write_text(bench_flatten.BENCH_ZONE)
        needs = bench_flatten.tree_needs([FIXTURE_ZONES, tmp])
    flatten = [bench_flatten.bench(latency, runs, needs) for latency in latencies]
    few = max(1, runs // 2 + 1)  # the runs of the slower benchmarks
    peer_python = None if args.no_peer else bench_peer.ensure_peer(args.peer_venv)
    peer = [] if peer_python is None else [bench_peer.bench(latency, few, peer_python) for latency in latencies]
    capacity: list[bench_capacity.TenantFigures | bench_capacity.ClientsFigures] = [
        bench_capacity.tenant(20.0, few, peer_python),
        *(f for budget in (None, 3) for f in bench_capacity.clients(20.0, min(1000, domains), budget, few)),
    ]
    macro = bench_macro.bench(few)
    check = bench_check.bench(domains, 20.0, 200)
    drift = bench_diff.bench(min(300, domains), 20.0)
    drift_compiled = bench_diff.compiled(20.0)
    startup = bench_startup.bench(startup_runs)
    elapsed = time.perf_counter() - started

    if args.json:
        print(json.dumps({
            "machine": machine(), "seconds": elapsed, "flatten": [asdict(f) for f in flatten],
            "peer": [asdict(p) for p in peer],
            "capacity": [asdict(c) for c in capacity], "macro": [asdict(m) for m in macro], "check": asdict(check),
            "diff": asdict(drift), "diff_compiled": asdict(drift_compiled),
            "startup": asdict(startup),
        }, indent=2))
    elif args.markdown:
        print(markdown(flatten, peer, check, startup, capacity, macro, drift, drift_compiled))
    else:
        for block in [*(f.lines() for f in flatten), *(p.lines() for p in peer), *(c.lines() for c in capacity),
                      ["macro-compiled SPF (in process, records answered from memory)", bench_macro.HEADER,
                       *(m.row() for m in macro)], check.lines(), drift.lines(), drift_compiled.lines(),
                      startup.lines()]:
            print("\n".join(block))
        print(f"\nmachine: {machine()}; all benchmarks took {elapsed:.0f} s")
    return 0


def markdown(flatten: list[bench_flatten.FlattenFigures], peer: list[bench_peer.PeerFigures],
             check: bench_check.CheckFigures, startup: bench_startup.StartupFigures,
             capacity: list[bench_capacity.TenantFigures | bench_capacity.ClientsFigures],
             macro: list[bench_macro.MacroFigures], drift: bench_diff.DiffFigures,
             drift_compiled: bench_diff.CompiledFigures) -> str:
    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    rows = []
    for f in flatten:
        rows.append(
            f"| Flatten, 9 providers, {f.latency_ms:g} ms latency | {ms(f.wall_s)} (CPU {ms(f.cpu_s)}) | "
            f"≤ start-up {ms(f.startup_s)} + (depth {f.depth} + 2) × {f.latency_ms:g} ms = {ms(f.target_s)} | "
            f"{met(f.ok)} |"
        )
        rows.append(
            f"| The network's share of it (wall less the {ms(f.wall_zero_latency_s)} at 0 ms latency), "
            f"{f.latency_ms:g} ms | {ms(f.network_s)} | ≤ (depth {f.depth} + 2) × {f.latency_ms:g} ms = "
            f"{ms(f.network_budget_s)} | {met(f.network_s <= f.network_budget_s)} |"
        )
        rows.append(
            f"| Queries sent / distinct (name, type) pairs the tree needs, {f.latency_ms:g} ms | "
            f"{f.queries_udp + f.queries_tcp} / {f.tree_pairs} | equal | "
            f"{met(f.queries_udp == f.tree_pairs and not f.extra_pairs)} |"
        )
    for p in peer:
        speed = f"{p.speedup:.1f}× faster" if p.speedup >= 1 else f"{p.speedup:.1f}× (slower)"
        rows.append(
            f"| Same flatten vs sender-policy-flattener 0.4.0, {p.latency_ms:g} ms | {ms(p.spfbuild_wall_s)} vs "
            f"{ms(p.peer_wall_s)}: {speed} | ≥ 3× | {met(p.speedup >= 3)} |"
        )
    rows += bench_capacity.markdown_rows(capacity)
    rows += [m.markdown() for m in macro]
    rows.append(
        f"| Bulk check, {check.domains:,} domains, 20 ms | {check.domains_per_s:.0f} domains/s | ≥ 500/s | "
        f"{met(check.domains_per_s >= 500)} |"
    )
    rows.append(f"| Bulk check peak memory | {check.peak_mb:.0f} MB | < 300 MB | {met(check.peak_mb < 300)} |")
    rows += [bench_diff.markdown_row(drift), bench_diff.compiled_row(drift_compiled)]
    for name, seconds in startup.median_s.items():
        if name != bench_startup.BARE:
            rows.append(f"| `{name}` start-up | {ms(seconds)} (`{bench_startup.BARE}`: {ms(startup.bare)}) | - | - |")
    lines = [
        "## Performance",
        "",
        "Measured against a loopback DNS server that delays every answer (benchmarks/dnsserver.py),",
        f"on {machine()}:",
        "",
        "| Benchmark | Figure | Target | |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
        "Reproduce with (about two minutes; installs sender-policy-flattener into /tmp/spfbench-peer):",
        "",
        "```sh",
        f"{COMMAND} --markdown",
        "```",
        "",
        "Wall times are medians of fresh `spfbuild` processes, start-up included; CPU is the process's user +",
        f"system time. The include tree's depth is {flatten[0].depth} (Google's and Mimecast's records nest two",
        "levels); the nine providers are Microsoft 365, Google, Mimecast, Salesforce and Zendesk in one domain,",
        "MailChimp, SendGrid, Amazon SES and OVH in another (one domain cannot hold all nine in 10 lookups).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
