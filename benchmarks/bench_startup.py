"""Start-up benchmark: `spfbuild --help`, `spfbuild lint RECORD` and `spfbuild render SAMPLE`
against a bare `python -c pass`.

    python benchmarks/bench_startup.py [--runs 20] [--quick] [--json]

Each command runs `--runs` times, round-robin so every command sees the same machine load, after
one warm-up run each (bytecode written, files cached); the median is reported. The environment
is the caller's, without PYTHONDONTWRITEBYTECODE: users' installs have their bytecode cached.
Target: lint and render within twice the bare start. Beside them, bare starts that only import
what each command cannot do without (its floor): the console script's `re` and the frozen
dataclasses the values are for lint, PyYAML too for render, asyncio and netaddr too for flatten.
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


# What a command cannot start without, as a bare Python start that imports only that.
FLOORS = {
    "lint floor": "import re, dataclasses",
    "render floor": "import re, dataclasses, yaml",
    "flatten floor": "import re, dataclasses, yaml, asyncio, netaddr",
}


def commands() -> dict[str, list[str]]:
    spfbuild = spfbuild_command()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "spfbuild --help": [*spfbuild, "--help"],
        "spfbuild lint RECORD": [*spfbuild, "lint", RECORD],
        "spfbuild render SAMPLE": [*spfbuild, "render", str(SAMPLE)],
        **{f"{name} ({code})": [sys.executable, "-c", code] for name, code in FLOORS.items()},
    }


@dataclass(frozen=True)
class StartupFigures:
    runs: int
    median_s: dict[str, float]

    @property
    def bare(self) -> float:
        return self.median_s["python -c pass"]

    def floor(self, command: str) -> float:
        """The bare start importing only what `command` ("lint", "render", "flatten") needs."""
        return next(s for name, s in self.median_s.items() if name.startswith(f"{command} floor"))

    def lines(self) -> list[str]:
        out = [f"start-up ({self.runs} runs each, median)"]
        width = max(map(len, self.median_s))
        for name, seconds in self.median_s.items():
            ratio = seconds / self.bare
            note = ""
            if name.startswith(("spfbuild lint", "spfbuild render")):
                note = f"  target <= 2.0x: {'met' if ratio <= 2 else 'MISSED'}"
            out.append(f"  {name:{width}s} {seconds * 1000:6.1f} ms  {ratio:4.1f}x{note}")
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
