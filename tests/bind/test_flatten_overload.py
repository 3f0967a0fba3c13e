"""An overloaded server (tests/support/faultdns.py dropping most answers): `flatten`, its cron run
and `check` each end with their one-line messages, never a traceback, an unretrieved task's
exception or an "unhandled exception during asyncio.run() shutdown"."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.faultdns import FaultServer

PROVIDERS = 4
NOISE = ("Traceback", "Task exception was never retrieved", "unhandled exception", "Exception ignored")


def records() -> list[tuple[str, str, str]]:
    found = []
    for p in range(PROVIDERS):
        parts = " ".join(f"include:p{p}-{n}.test" for n in range(3))
        found.append((f"p{p}.test", "TXT", f'"v=spf1 {parts} a:host{p}.test mx:mx{p}.test -all"'))
        found += [(f"p{p}-{n}.test", "TXT", f'"v=spf1 ip4:198.18.{p}.{n * 8}/29 ~all"') for n in range(3)]
        found += [(f"host{p}.test", "A", f"198.19.{p}.1"), (f"mx{p}.test", "MX", f"10 m{p}.mx{p}.test."),
                  (f"m{p}.mx{p}.test", "A", "198.19.9.9")]
    return found


@pytest.fixture(scope="module")
def overloaded() -> Iterator[FaultServer]:
    zone = records()
    server = FaultServer(zone, {owner: "mutate" for owner, _, _ in zone}).start()
    rng = random.Random(7208)
    server.mutator = lambda data: None if rng.random() < 0.7 else data  # most answers never come
    yield server
    server.close()


def spfbuild(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfbuild", *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def clean(done: subprocess.CompletedProcess[str]) -> None:
    for noise in NOISE:
        assert noise not in done.stderr + done.stdout, done.stderr


@pytest.mark.parametrize("attempt", range(4))
def test_flatten_gives_one_line(attempt: int, overloaded: FaultServer, tmp_path: Path) -> None:
    config = tmp_path / "senders.yaml"
    config.write_text("domain: over.example\npolicy: fail\nsenders:\n"
                      + "".join(f"  - include: p{p}.test\n" for p in range(PROVIDERS)), encoding="utf-8")
    plain = spfbuild("flatten", config, "--nameserver", overloaded.address, "--timeout", "0.2")
    cron = spfbuild("flatten", config, "--nameserver", overloaded.address, "--timeout", "0.2",
                    "--state", tmp_path / "state.json")
    for done in (plain, cron):
        clean(done)
        if done.returncode != 0:
            assert done.returncode == 3 and done.stdout == "", "a DNS failure only"
            (line,) = done.stderr.splitlines()
            assert "over.example: " in line and "temperror" in line, line


@pytest.mark.parametrize("attempt", range(2))
def test_check_gives_its_report(attempt: int, overloaded: FaultServer) -> None:
    done = spfbuild("check", *(f"p{p}.test" for p in range(PROVIDERS)), "--nameserver", overloaded.address,
                    "--timeout", "0.2")
    clean(done)
    assert done.returncode in (0, 1, 3), done.stderr
    assert done.stdout.splitlines()[-1].startswith(f"{PROVIDERS} domains checked")
