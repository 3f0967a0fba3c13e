"""DNS fault injection: `check`, `eval` and `flatten` (plain and cron mode) against a server that
times out, fails, truncates, answers too much, answers garbage, loops, wildcards, changes case
and dribbles (tests/support/faultdns.py).

Every scenario has a domain `<fault>.test` whose record is `v=spf1 include:spf.<fault>.test -all`
and a sender config `include: spf.<fault>.test`; the fault sits at `spf.<fault>.test` (or at the
domain itself for the `top-*` scenarios). Each command runs as a subprocess with `--nameserver`
at the fault server and `--timeout 1`. A fault that leaves no answer gives the RFC 7208 result:
temperror for a DNS failure (RFC 7208 sections 2.6.6, 4.4, 5.2), permerror for a record with a
syntax error (4.6); `check` reports it as an error finding, `flatten` refuses the domain in one
line and, in cron mode, leaves its state and output byte-identical and publishes nothing. A fault
that DNS itself recovers from (TCP after truncation, CNAME chains, wildcards, case) changes no
result. Every command finishes well within its timeouts: wall time is bounded generously, as a
hang detector, not a benchmark.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.faultdns import FaultServer

from spfbuild.catalogue import load_catalogue
from spfbuild.config import load_config
from spfbuild.cron import CronOptions, run
from spfbuild.dns import Answer, Outcome, Resolver
from spfbuild.emit import render_txt
from spfbuild.files import write_atomic

RECORD = "v=spf1 ip4:192.0.2.0/24 -all"
FLATTENED = f'"{RECORD}"\n'
HANG_BOUND = 15.0  # seconds; with --timeout 1 a command asks for well under this even when every question fails
TIMEOUT = "1"
KEY = 'key "spfbuild-push" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNDU2Nzg=";\n};\n'


@dataclass(frozen=True)
class Scenario:
    fault: str
    result: str  # what eval gives: the RFC 7208 result
    detail: str = ""  # a part of every message about the fault
    apply: Callable[[FaultServer, str], None] = lambda server, domain: None
    check_codes: tuple[str, ...] = ()  # findings `check` must report
    at_top: bool = False  # the fault is at the domain itself
    publish_detail: str = ""  # what publishing says instead, when the fault stops it (at_top)
    # --timeout: 1 s makes the silent faults quick; an answer that must come (a 20 KB one over
    # TCP, built by this test server in Python) gets room on a loaded machine.
    timeout: str = TIMEOUT

    @property
    def domain(self) -> str:
        return f"{self.fault}.test"

    @property
    def fails(self) -> bool:
        return self.result in ("temperror", "permerror")


def behave(behaviour: str, top: bool = False) -> Callable[[FaultServer, str], None]:
    def apply(server: FaultServer, domain: str) -> None:
        server.set(domain if top else f"spf.{domain}", behaviour)

    return apply


def cname_chain(hops: int, *, chase: bool) -> Callable[[FaultServer, str], None]:
    """spf.<domain> -> c1 -> ... -> c<hops>, which holds the record; each answer holds the whole
    chain when the server chases it, else one CNAME (the resolver asks for each target)."""
    def apply(server: FaultServer, domain: str) -> None:
        server.reset(f"spf.{domain}")
        names = [f"spf.{domain}", *(f"c{i}.{domain}" for i in range(1, hops + 1))]
        for name, target in itertools.pairwise(names):
            server.add(name, "CNAME", f"{target}.")
            if not chase:
                server.set(name, "no-chase")
        server.add(names[-1], "TXT", f'"{RECORD}"')

    return apply


def cname_loop(server: FaultServer, domain: str) -> None:
    server.reset(f"spf.{domain}")
    server.add(f"spf.{domain}", "CNAME", f"loop.{domain}.")
    server.add(f"loop.{domain}", "CNAME", f"spf.{domain}.")


def wildcard(server: FaultServer, domain: str) -> None:
    server.reset(f"spf.{domain}")  # answered by *.<domain> only
    server.add(f"*.{domain}", "TXT", f'"{RECORD}"')


def not_utf8(server: FaultServer, domain: str) -> None:
    server.reset(f"spf.{domain}")
    server.add(f"spf.{domain}", "TXT", '"v=spf1 ip4:192.0.2.0/24 caf\\233 -all"')


SCENARIOS = [
    Scenario("timeout", "temperror", "timeout: no answer", behave("timeout"), ("SPF510",)),
    Scenario("servfail", "temperror", "SERVFAIL", behave("servfail"), ("SPF510",)),
    Scenario("refused", "temperror", "REFUSED", behave("refused"), ("SPF510",)),
    Scenario("formerr", "temperror", "FORMERR", behave("formerr"), ("SPF510",)),
    Scenario("referral", "temperror", "referral", behave("referral"), ("SPF510",)),
    Scenario("truncated-udp", "pass", apply=behave("truncate")),
    Scenario("oversized-udp", "pass", apply=behave("oversized"), check_codes=("SPF514",)),
    Scenario("huge-tcp", "pass", apply=behave("huge"), check_codes=("SPF514",), timeout="5"),
    Scenario("garbage", "temperror", "error from", behave("garbage"), ("SPF510",)),
    Scenario("wrong-id", "temperror", "", behave("wrong-id"), ("SPF510",)),
    Scenario("short-header", "temperror", "error from", behave("short"), ("SPF510",)),
    Scenario("cut-answer", "temperror", "error from", behave("cut"), ("SPF510",)),
    Scenario("slow-tcp", "temperror", "timeout: no answer", behave("slow-tcp"), ("SPF510",)),
    Scenario("cname-chain", "pass", apply=cname_chain(4, chase=True)),
    Scenario("cname-steps", "pass", apply=cname_chain(4, chase=False)),
    Scenario("cname-too-long", "temperror", "CNAME chain too long", cname_chain(12, chase=False), ("SPF510",)),
    Scenario("cname-loop", "temperror", "CNAME loop", cname_loop, ("SPF510",)),
    Scenario("wildcard", "pass", apply=wildcard),
    Scenario("mixed-case", "pass", apply=behave("mixed-case")),
    Scenario("not-utf8", "permerror", "octet 0xE9 (not UTF-8)", not_utf8, ("SPF503",)),
    Scenario("top-timeout", "temperror", "timeout: no answer", behave("timeout", top=True), ("SPF510",), at_top=True,
             publish_detail="cannot query top-timeout.test TXT: timed out"),
    Scenario("top-servfail", "temperror", "SERVFAIL", behave("servfail", top=True), ("SPF510",), at_top=True,
             publish_detail="SERVFAIL for top-servfail.test TXT"),
]
COMMANDS = ("eval", "check", "flatten", "flatten-cron")


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    files_before: dict[str, bytes] = field(default_factory=dict)
    files_after: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Matrix:
    server: FaultServer
    runs: dict[tuple[str, str], Ran]


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file() and not p.name.endswith(".lock")}


def _config(directory: Path, scenario: Scenario) -> Path:
    path = directory / "senders.yaml"
    path.write_text(f"domain: {scenario.domain}\npolicy: fail\nttl: 300\nsenders:\n  - include: spf.{scenario.domain}\n"
                    "flatten:\n  max_lookups: 0\n", encoding="utf-8")
    return path


async def _baseline(server: FaultServer, directory: Path, scenario: Scenario) -> None:
    """The last good run, made while the server is healthy: state and output to compare with."""
    catalogue = load_catalogue()
    cfg = load_config(directory / "senders.yaml", catalogue)
    resolver = Resolver([server.address], timeout=1, retries=1)

    def write(sets: object, changed: bool, failed: frozenset[str]) -> None:
        write_atomic(directory / "out.txt", render_txt(sets))  # type: ignore[arg-type]

    result = await run(cfg, catalogue, resolver, CronOptions(directory / "state.json"), write)
    assert not result.failed, [o.lines for o in result.outcomes]


def _command(scenario: Scenario, command: str, server: FaultServer, directory: Path) -> list[str]:
    dns = ["--nameserver", server.address, "--timeout", scenario.timeout]
    if command == "eval":
        return ["eval", "--ip", "192.0.2.9", "--sender", f"user@{scenario.domain}", *dns]
    if command == "check":
        return ["check", scenario.domain, *dns]
    if command == "flatten":
        return ["flatten", str(directory / "senders.yaml"), *dns]
    extra = ["--state", str(directory / "state.json"), "--output", str(directory / "out.txt")]
    if scenario.fails:  # a publish would reach the fault server, which records every UPDATE
        extra += ["--push", f"rfc2136://{server.address}/{scenario.domain}", "--tsig-key", str(directory / "push.key")]
    return ["flatten", str(directory / "senders.yaml"), *dns, *extra]


def _run(args: list[str], directory: Path) -> Ran:
    before = _files(directory)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "spfbuild", *args], capture_output=True, text=True,
                          errors="backslashreplace", timeout=120, check=False)
    seconds = time.monotonic() - started
    return Ran(done.returncode, done.stdout, done.stderr, seconds, before, _files(directory))


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """Healthy records for every scenario, a baseline cron run each, then the faults, then every
    command of every scenario, a few at a time."""
    records = []
    for scenario in SCENARIOS:
        records += [(scenario.domain, "TXT", f'"v=spf1 include:spf.{scenario.domain} -all"'),
                    (f"spf.{scenario.domain}", "TXT", f'"{RECORD}"')]
    server = FaultServer(records).start()
    directories: dict[str, Path] = {}
    for scenario in SCENARIOS:
        directory = directories[scenario.fault] = tmp_path_factory.mktemp(scenario.fault)
        _config(directory, scenario)
        (directory / "push.key").write_text(KEY, encoding="utf-8")
        (directory / "push.key").chmod(0o600)
        asyncio.run(_baseline(server, directory, scenario))
    for scenario in SCENARIOS:
        scenario.apply(server, scenario.domain)
    server.received.clear()
    jobs = [(s, c) for s in SCENARIOS for c in COMMANDS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        # flatten and flatten-cron share a scenario's directory but not its files; `_files` ignores the lock.
        results = pool.map(lambda job: _run(_command(job[0], job[1], server, directories[job[0].fault]),
                                            directories[job[0].fault]), jobs)
        runs = {(s.fault, c): r for (s, c), r in zip(jobs, results, strict=True)}
    yield Matrix(server, runs)
    server.close()


def _assert_clean(run: Ran) -> None:
    assert "Traceback" not in run.stdout + run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.seconds < HANG_BOUND, f"took {run.seconds:.1f} s"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.fault)
def test_eval(scenario: Scenario, matrix: Matrix) -> None:
    run = matrix.runs[(scenario.fault, "eval")]
    _assert_clean(run)
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert first.split(" ", 1)[0] == scenario.result, first
    assert scenario.detail in first
    if scenario.result == "pass":
        assert first.startswith(f"pass (matched ip4:192.0.2.0/24 in spf.{scenario.domain} via include:")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.fault)
def test_check(scenario: Scenario, matrix: Matrix) -> None:
    run = matrix.runs[(scenario.fault, "check")]
    _assert_clean(run)
    # A DNS failure leaves the domain unchecked (3); a broken record is an error finding (1).
    assert run.returncode == (3 if scenario.result == "temperror" else 1 if scenario.fails else 0), run.stdout + run.stderr
    findings = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith(("error ", "warning "))]
    codes = [line.split()[1] for line in findings]
    for code in scenario.check_codes:
        assert code in codes, run.stdout
    if scenario.fails:
        (error,) = [line for line in findings if line.startswith("error ")]
        assert scenario.detail in error
    else:
        assert not any(line.startswith("error ") for line in findings), run.stdout


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.fault)
def test_flatten(scenario: Scenario, matrix: Matrix) -> None:
    run = matrix.runs[(scenario.fault, "flatten")]
    _assert_clean(run)
    if scenario.fails and not scenario.at_top:
        # A DNS failure exits 3, a broken record 1.
        assert run.returncode == (3 if scenario.result == "temperror" else 1) and run.stdout == ""
        (line,) = run.stderr.splitlines()
        assert line.startswith(f"spfbuild: error: {scenario.domain}: ") and scenario.detail in line, line
        if scenario.result == "temperror":
            assert "temperror" in line
    else:
        # The domain's own record is no input to flattening: a fault there only leaves the other TXT
        # records at the name unmeasured (flatten.reserve_bytes can state them).
        assert run.returncode == 0, run.stderr
        assert run.stdout == FLATTENED


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.fault)
def test_flatten_cron_keeps_state_and_output_and_publishes_nothing(scenario: Scenario, matrix: Matrix) -> None:
    run = matrix.runs[(scenario.fault, "flatten-cron")]
    _assert_clean(run)
    assert set(run.files_before) == {"out.txt", "push.key", "senders.yaml", "state.json"}
    assert run.files_before["out.txt"] == FLATTENED.encode()
    if scenario.fails:
        # A fault at the domain itself does not stop flattening, but it stops publishing: the live
        # record cannot be read, so the update is never sent. A DNS failure exits 3, a broken record 1.
        assert run.returncode == (3 if scenario.result == "temperror" else 1) and run.stdout == ""
        (line,) = run.stderr.splitlines()
        assert line.startswith(f"{scenario.domain}: ") and (scenario.publish_detail or scenario.detail) in line, line
        assert run.files_after == run.files_before  # byte-identical: state, output, and nothing new
        assert not [q for q in matrix.server.received if q[1] == "SOA" and q[0] == scenario.domain]
    else:
        assert run.returncode == 0 and run.stdout == "", run.stderr  # unchanged: cron stays quiet
        assert run.files_after["out.txt"] == run.files_before["out.txt"]
        before, after = (json.loads(files["state.json"]) for files in (run.files_before, run.files_after))
        assert before["domains"][scenario.domain]["records"] == after["domains"][scenario.domain]["records"]


def test_nothing_was_published(matrix: Matrix) -> None:
    assert matrix.server.updates == []  # the fault server records every RFC 2136 UPDATE it receives


# ---------------------------------------------------------------- the resolver on mutated answers


@pytest.fixture(scope="module")
def mutating() -> Iterator[FaultServer]:
    server = FaultServer([("m.test", "TXT", f'"{RECORD}"'), ("m.test", "TXT", '"other"'),
                          ("m.test", "MX", "10 mx.m.test."), ("mx.m.test", "A", "192.0.2.1")],
                         {"m.test": "mutate", "mx.m.test": "mutate"}).start()
    yield server
    server.close()


@given(st.lists(st.tuples(st.integers(2, 2000), st.integers(0, 255)), max_size=6), st.integers(0, 200),
       st.sampled_from(["TXT", "MX", "A"]))
@settings()
def test_the_resolver_gives_an_answer_for_any_mutation_of_a_response(
    mutating: FaultServer, flips: list[tuple[int, int]], cut: int, rdtype: str
) -> None:
    def mutate(data: bytes) -> bytes:
        octets = bytearray(data)  # the ID (first two octets) stays: a wrong ID is a timeout, tested above
        for offset, value in flips:
            if offset < len(octets):
                octets[offset] = value
        return bytes(octets[: len(octets) - cut] if cut < len(octets) - 2 else octets)

    mutating.mutator = mutate
    name = "mx.m.test" if rdtype == "A" else "m.test"

    async def ask() -> Answer:
        return await Resolver([mutating.address], timeout=0.3, retries=0).query(name, rdtype)

    started = time.monotonic()
    answer = asyncio.run(ask())
    assert time.monotonic() - started < 5
    assert isinstance(answer.outcome, Outcome)
    assert all(isinstance(r, str) or r.exchange for r in answer.records)
