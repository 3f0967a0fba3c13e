"""Start-up benchmark: each command's `--help`, `spfbuild lint RECORD`, `spfbuild render SAMPLE`,
`spfbuild rules` and `spfbuild providers`, beside a bare `python -c pass` for reference.

    python benchmarks/bench_startup.py [--runs 20] [--quick] [--json]

Each command runs `--runs` times, round-robin so every command sees the same machine load, after
one warm-up run each (bytecode written, files cached); the median is reported. The environment
is the caller's, without PYTHONDONTWRITEBYTECODE: users' installs have their bytecode cached.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

from benchlib import ROOT, median, run, spfbuild_command

RECORD = "v=spf1 include:spf.protection.outlook.com include:servers.mcsv.net ip4:178.251.192.3 -all"
SAMPLE = ROOT / "sample-configs" / "office365-mailchimp.yaml"
COMMANDS = ("lint", "render", "flatten", "check", "eval", "rules", "providers")
BARE = "python -c pass"


def commands() -> dict[str, list[str]]:
    spfbuild = spfbuild_command()
    return {
        BARE: [sys.executable, "-c", "pass"],
        "spfbuild --help": [*spfbuild, "--help"],
        **{f"spfbuild {name} --help": [*spfbuild, name, "--help"] for name in COMMANDS},
        "spfbuild lint RECORD": [*spfbuild, "lint", RECORD],
        "spfbuild render SAMPLE": [*spfbuild, "render", str(SAMPLE)],
        "spfbuild rules": [*spfbuild, "rules"],
        "spfbuild providers": [*spfbuild, "providers"],
    }


@dataclass(frozen=True)
class StartupFigures:
    runs: int
    median_s: dict[str, float]

    @property
    def bare(self) -> float:
        return self.median_s[BARE]

    def lines(self) -> list[str]:
        out = [f"start-up ({self.runs} runs each, median)"]
        width = max(map(len, self.median_s))
        for name, seconds in self.median_s.items():
            out.append(f"  {name:{width}s} {seconds * 1000:6.1f} ms")
        return out


def bench(runs: int) -> StartupFigures:
    todo = commands()
    for command in todo.values():
        done = run(command)
        if done.returncode != 0:
            raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr}")
    times: dict[str, list[float]] = {name: [] for name in todo}
    for _ in range(runs):
        for name, command in todo.items():
            times[name].append(run(command).seconds)
    return StartupFigures(runs, {name: median(values) for name, values in times.items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each command (default 20)")
    parser.add_argument("--quick", action="store_true", help="5 runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = bench(5 if args.quick else args.runs)
    print(json.dumps(asdict(figures), indent=2) if args.json else "\n".join(figures.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
