"""Shared pieces of the benchmarks: the latency DNS server, timed child processes, the machine."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURE_ZONES = ROOT / "tests" / "bind" / "zones"
DNSSERVER = HERE / "dnsserver.py"

# Every catalogue provider whose tree the fixture zones model.
MODELLED_PROVIDERS = (
    "office365", "google", "mimecast", "mailchimp", "sendgrid", "amazon-ses", "salesforce", "zendesk", "ovh",
)
FLATTEN_DOMAIN = "bench.example"


def spfbuild_command() -> list[str]:
    """The `spfbuild` console script of the environment running the benchmark."""
    script = Path(sys.executable).parent / "spfbuild"
    if script.exists():
        return [str(script)]
    found = shutil.which("spfbuild")
    return [found] if found else [sys.executable, "-m", "spfbuild"]


def child_env() -> dict[str, str]:
    """The environment for timed children: bytecode caching on, as users have it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


@dataclass(frozen=True)
class Query:
    transport: str  # "udp" or "tcp"
    name: str
    rdtype: str


class DNSServer:
    """benchmarks/dnsserver.py in a child process; `queries()` reads what it received."""

    def __init__(self, zone_dirs: Sequence[Path], latency_ms: float, zone_files: Sequence[Path] = ()):
        self._dir = tempfile.TemporaryDirectory(prefix="spfbench-dns-")
        self.log = Path(self._dir.name) / "queries.log"
        self.log.touch()
        command = [sys.executable, str(DNSSERVER), "--latency", str(latency_ms), "--log", str(self.log)]
        for directory in zone_dirs:
            command += ["--zones", str(directory)]
        for path in zone_files:
            command += ["--zone-file", str(path)]
        self.latency_ms = latency_ms
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.process.kill()
            raise RuntimeError(f"the benchmark DNS server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.nameserver = f"127.0.0.1:{self.port}"

    def mark(self) -> int:
        return self.log.stat().st_size

    def queries(self, since: int = 0) -> list[Query]:
        with self.log.open("rb") as handle:
            handle.seek(since)
            data = handle.read().decode("utf-8", "replace")
        out = []
        for line in data.splitlines():
            transport, name, rdtype = line.split(" ")
            out.append(Query(transport, name, rdtype))
        return out

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._dir.cleanup()

    def __enter__(self) -> DNSServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class QueryStats:
    udp: int
    tcp: int
    distinct: int  # distinct (name, type) pairs
    repeated: dict[tuple[str, str], int]  # pairs asked more than once over UDP

    @property
    def sent(self) -> int:
        return self.udp + self.tcp


def query_stats(queries: Sequence[Query]) -> QueryStats:
    udp = Counter((q.name, q.rdtype) for q in queries if q.transport == "udp")
    tcp = sum(1 for q in queries if q.transport == "tcp")
    distinct = len({(q.name, q.rdtype) for q in queries})
    return QueryStats(sum(udp.values()), tcp, distinct, {k: n for k, n in udp.items() if n > 1})


@dataclass(frozen=True)
class Run:
    seconds: float
    returncode: int
    max_rss_kb: int
    cpu_seconds: float  # user + system
    stdout: str
    stderr: str


def run(command: Sequence[str], *, stdin: str | None = None, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> Run:
    """Run a child to completion: wall time, exit status, its peak resident memory."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out, stderr=err, env=env if env is not None else child_env(), cwd=cwd,
        )
        if stdin is not None:
            assert process.stdin is not None
            process.stdin.write(stdin.encode())
            process.stdin.close()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(seconds, process.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def startup_seconds(command: Sequence[str], repeat: int) -> float:
    """Median wall time of `command` over `repeat` runs, after one warm-up run."""
    run(command)
    return median([run(command).seconds for _ in range(repeat)])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def print_figures(figures: Sequence[Any], as_json: bool) -> None:
    """Each benchmark's figures: JSON for machines, or its own lines for people."""
    if as_json:
        print(json.dumps([asdict(f) for f in figures], indent=2))
    else:
        for item in figures:
            print("\n".join(item.lines()))
