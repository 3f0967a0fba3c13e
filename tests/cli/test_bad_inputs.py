"""The bad-input catalogue (tests/bad-inputs/): every malformed config and record file, run
through the real CLI in a subprocess, exits non-zero with its exact one-line message, no
traceback, and nothing written.

`expected.yaml` maps each file to the commands it is run through, with the exit status and the
exact message (stderr, or for lint findings the first line of stdout). Commands run with the
catalogue as the working directory, so messages name the bare file. render and flatten are
also given `--output` in an empty directory, which must stay empty.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

CATALOGUE = Path(__file__).resolve().parents[1] / "bad-inputs"
EXPECTED: dict[str, dict[str, dict[str, object]]] = yaml.safe_load(
    (CATALOGUE / "expected.yaml").read_text(encoding="utf-8")
)
CASES = [(name, command) for name, commands in EXPECTED.items() for command in commands]
NOT_CASES = {"expected.yaml"}


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    left_behind: list[str]  # files in the --output directory afterwards


def _args(command: str, name: str, output: Path) -> list[str]:
    if command == "render":
        return ["render", name, "--output", str(output / "out.txt")]
    if command == "flatten":
        # A closed port: no DNS question may be needed to refuse a bad config.
        return ["flatten", name, "--nameserver", "127.0.0.1:9", "--timeout", "1", "--output", str(output / "out.txt")]
    if command == "lint":
        return ["lint", "--file", name]
    raise ValueError(f"unknown command {command!r} in expected.yaml")


def _run(case: tuple[str, str]) -> Run:
    name, command = case
    with tempfile.TemporaryDirectory(prefix="spfbuild-bad-") as scratch:
        output = Path(scratch)
        done = subprocess.run([sys.executable, "-m", "spfbuild", *_args(command, name, output)], cwd=CATALOGUE,
                              capture_output=True, text=True, errors="backslashreplace", timeout=60, check=False)
        return Run(done.returncode, done.stdout, done.stderr, sorted(p.name for p in output.iterdir()))


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], Run]:
    """Every case, run a few at a time (each is a fresh interpreter)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(_run, CASES), strict=True))


def test_the_catalogue_is_complete() -> None:
    files = {p.name for p in CATALOGUE.iterdir() if p.is_file()} - NOT_CASES
    assert files == set(EXPECTED), "every file needs expectations, and every expectation a file"
    assert len(files) >= 40
    assert {command for _, command in CASES} == {"render", "flatten", "lint"}


@pytest.mark.parametrize(("name", "command"), CASES, ids=[f"{c}:{n}" for n, c in CASES])
def test_bad_input(name: str, command: str, runs: dict[tuple[str, str], Run]) -> None:
    run = runs[(name, command)]
    expected = EXPECTED[name][command]
    assert "Traceback" not in run.stdout + run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.returncode != 0
    assert run.returncode == expected["exit"], run.stderr
    if "stdout" in expected:  # lint findings: the first one, exactly; nothing on stderr
        assert run.stdout.splitlines()[0] == expected["stdout"]
        assert run.stderr == ""
    else:  # one line, exactly; nothing emitted
        assert run.stderr == f"{expected['stderr']}\n"
        assert run.stdout == ""
    assert run.left_behind == [], "nothing may be written, not even a temporary file"
