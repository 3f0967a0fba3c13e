"""Peer benchmark: the flatten workload of bench_flatten.py, run with sender-policy-flattener
(PyPI) and with spfbuild against the same latency DNS server, in the same run.

    python benchmarks/bench_peer.py [--latency 20] [--latency 50] [--runs 3] [--quick] [--json]
                                    [--peer-venv /tmp/spfbench-peer]

sender-policy-flattener lives in its own virtual environment (created with pip on first use,
never in the project's). Its command line takes resolver addresses only (port 53), so the
benchmark calls its library entry point, `sender_policy_flattener.flatten()`, in a fresh
process per run, with a dnspython `Do53Nameserver` naming the server's port: its resolver is
used as it ships (no cache, one question at a time), nothing is patched. Its input is each
domain's include targets, as a user would configure it. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench_flatten import BENCH_ZONE, config_text
from benchlib import FIXTURE_ZONES, DNSServer, median, ms, print_figures, query_stats, run, spfbuild_command, workdir

PEER = "sender-policy-flattener==0.4.0"
DEFAULT_VENV = Path("/tmp/spfbench-peer")

DRIVER = """
import json, sys
import dns.nameserver
import sender_policy_flattener

port, path = int(sys.argv[1]), sys.argv[2]
with open(path) as handle:
    domains = json.load(handle)
result = sender_policy_flattener.flatten(
    input_records=domains, dns_servers=[dns.nameserver.Do53Nameserver("127.0.0.1", port)],
    email_server="", email_subject="{zone}", fromaddress="", toaddress="", lastresult=None,
)
json.dump(result, sys.stdout, indent=1)
"""


def ensure_peer(venv: Path) -> Path:
    """The peer's python, installing it into `venv` first if needed."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import sender_policy_flattener"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", PEER], check=True)
    return python


def peer_input() -> dict[str, dict[str, str]]:
    """{domain: {include target: "txt"}}: the top-level includes of each benchmark domain."""
    from spfbuild.catalogue import load_catalogue
    from spfbuild.compose import compose
    from spfbuild.config import parse_config

    catalogue = load_catalogue()
    out: dict[str, dict[str, str]] = {}
    for spec in parse_config(config_text(), "bench.yaml", catalogue).domains:
        record = compose(spec, catalogue).record
        out[spec.domain] = {m.domain: "txt" for m in record.mechanisms if m.kind == "include" and m.domain}
    return out


@dataclass(frozen=True)
class PeerFigures:
    latency_ms: float
    runs: int
    peer_wall_s: float
    peer_queries: int
    peer_distinct: int
    spfbuild_wall_s: float
    spfbuild_queries: int
    speedup: float

    def lines(self) -> list[str]:
        return [
            f"peer @ {self.latency_ms:g} ms latency ({self.runs} runs each, same workload, same server)",
            f"  sender-policy-flattener 0.4.0  {ms(self.peer_wall_s)} median, {self.peer_queries} queries "
            f"({self.peer_distinct} distinct)",
            f"  spfbuild flatten               {ms(self.spfbuild_wall_s)} median, {self.spfbuild_queries} queries",
            f"  spfbuild is {self.speedup:.1f}x faster (target 3x at 20 ms): "
            f"{'met' if self.speedup >= 3 else 'MISSED'}",
        ]


def bench(latency_ms: float, runs: int, python: Path) -> PeerFigures:
    with workdir("spfbench-peer-") as tmp:
        (tmp / "zones").mkdir()
        (tmp / "zones" / "bench.example.zone").write_text(BENCH_ZONE)
        (tmp / "senders.yaml").write_text(config_text())
        (tmp / "peer.json").write_text(json.dumps(peer_input()))
        (tmp / "driver.py").write_text(DRIVER)
        with DNSServer([FIXTURE_ZONES, tmp / "zones"], latency_ms) as server:
            peer = [str(python), str(tmp / "driver.py"), str(server.port), str(tmp / "peer.json")]
            ours = [*spfbuild_command(), "flatten", str(tmp / "senders.yaml"), "--nameserver", server.nameserver]
            run(peer)
            run(ours)
            peer_walls, our_walls = [], []
            peer_queries = our_queries = peer_distinct = 0
            for _ in range(runs):  # interleaved, so both see the same machine load
                mark = server.mark()
                done = run(peer)
                if done.returncode != 0:
                    raise SystemExit(f"sender-policy-flattener failed: {done.stderr}")
                peer_walls.append(done.seconds)
                stats = query_stats(server.queries(mark))
                peer_queries, peer_distinct = stats.sent, stats.distinct
                mark = server.mark()
                done = run(ours)
                if done.returncode != 0:
                    raise SystemExit(f"spfbuild flatten failed: {done.stderr}")
                our_walls.append(done.seconds)
                our_queries = query_stats(server.queries(mark)).sent
    peer_wall, our_wall = median(peer_walls), median(our_walls)
    return PeerFigures(latency_ms, runs, peer_wall, peer_queries, peer_distinct, our_wall, our_queries,
                       peer_wall / our_wall)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, action="append", help="milliseconds (repeatable; default 20)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each tool per latency (default 3)")
    parser.add_argument("--quick", action="store_true", help="1 run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--peer-venv", type=Path, default=DEFAULT_VENV, help=f"default {DEFAULT_VENV}")
    args = parser.parse_args(argv)
    python = ensure_peer(args.peer_venv)
    runs = 1 if args.quick else args.runs
    figures = [bench(latency, runs, python) for latency in (args.latency or [20.0])]
    print_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
