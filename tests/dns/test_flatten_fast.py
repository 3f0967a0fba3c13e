"""The fast way into `spfbuild flatten` (no typer, no click, no pydantic): the same output, files
and exit status as the typer command for every plain invocation, against a real BIND 9; typer
parses everything else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bind import NamedServer
from typer.testing import CliRunner

from spfbuild.cli import _register
from spfbuild.cli.app import app

_register()
runner = CliRunner()
TYPER = ("typer", "click", "pydantic")
CONFIG = "domain: example.test\npolicy: fail\nsenders:\n  - provider: google\n  - include: excl.flat.test\n"
OVER_BUDGET = ("domain: example.test\npolicy: fail\nsenders:\n  - include: ex.flat.test\n  - provider: google\n"
               "flatten:\n  max_lookups: 0\n")


def fast_cli(*args: str, cwd: Path) -> tuple[int, str, str, set[str]]:
    """`python -X importtime -m spfbuild ARGS`: status, stdout, stderr without the import lines,
    and the top-level packages imported."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "spfbuild", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)
    imports = [line for line in proc.stderr.splitlines(keepends=True) if line.startswith("import time:")]
    rest = "".join(line for line in proc.stderr.splitlines(keepends=True) if not line.startswith("import time:"))
    modules = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in imports[1:]}
    return proc.returncode, proc.stdout, rest, modules


def typer_cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    (tmp_path / "senders.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "over.yaml").write_text(OVER_BUDGET, encoding="utf-8")
    return tmp_path


def plain_cases(ns: str) -> list[tuple[str, ...]]:
    return [
        ("flatten", "senders.yaml", "--nameserver", ns),
        ("flatten", "senders.yaml", "--nameserver", ns, "--format", "zone"),
        ("flatten", "-F", "json", "senders.yaml", f"--nameserver={ns}", "--explain"),
        ("flatten", "senders.yaml", "--nameserver", ns, "--nameserver", ns, "--timeout", "2.5", "-F", "octodns"),
        ("flatten", "over.yaml", "--nameserver", ns),
        ("flatten", "missing.yaml", "--nameserver", ns),
        ("flatten", "senders.yaml", "--nameserver", ns, "--check"),  # needs --state: a usage error
        ("flatten", "senders.yaml", "--nameserver", ns, "--timeout", "0"),
        ("flatten", "senders.yaml", "--nameserver", "not a server"),
        ("flatten", "senders.yaml", "--nameserver", ns, "--state", "s.json", "--max-shrink", "120"),
    ]


def test_plain_flatten_runs_without_typer_and_matches_the_typer_command(named: NamedServer, configs: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(configs)
    for args in plain_cases(named.nameserver):
        code, out, err, modules = fast_cli(*args, cwd=configs)
        assert not modules & set(TYPER), (args, sorted(modules & set(TYPER)))
        assert (code, out, err) == typer_cli(*args), args


def test_output_file_and_cron_state_match(named: NamedServer, configs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(configs)
    ns = named.nameserver
    for way in ("fast", "typer"):
        (configs / way).mkdir()
    runs = [
        ("flatten", "senders.yaml", "--nameserver", ns, "-F", "zone", "-o", "{}/spf.zone"),
        ("flatten", "senders.yaml", "--nameserver", ns, "--state", "{}/state.json", "--output", "{}/cron.txt"),
        ("flatten", "senders.yaml", "--nameserver", ns, "--state", "{}/state.json", "--output", "{}/cron.txt"),
        ("flatten", "senders.yaml", "--nameserver", ns, "--state", "{}/state.json", "--check"),
    ]
    for args in runs:
        code, out, err, modules = fast_cli(*(a.format("fast") for a in args), cwd=configs)
        assert not modules & set(TYPER)
        assert (code, out, err) == typer_cli(*(a.format("typer") for a in args)), args
    assert code == 0 and out == err == ""  # the second cron run and the plan: nothing changed, nothing said
    fast_files = {p.name: p.read_text(encoding="utf-8") for p in (configs / "fast").iterdir()}
    typer_files = {p.name: p.read_text(encoding="utf-8") for p in (configs / "typer").iterdir()}
    assert fast_files.keys() == typer_files.keys() == {"spf.zone", "state.json", "state.json.lock", "cron.txt"}
    assert fast_files["spf.zone"] == typer_files["spf.zone"] and fast_files["cron.txt"] == typer_files["cron.txt"]


@pytest.mark.parametrize(
    "args",
    [
        ("flatten",),
        ("flatten", "--help"),
        ("flatten", "senders.yaml", "--timeout", "abc"),
        ("flatten", "senders.yaml", "--max-shrink", "lots"),
        ("flatten", "senders.yaml", "--format", "xml"),
        ("flatten", "senders.yaml", "--explain", "--explain"),  # typer accepts it: the run goes ahead
        ("flatten", "senders.yaml", "-F", "zone", "--format", "json"),  # typer takes the last
        ("flatten", "senders.yaml", "--bogus"),
        ("flatten", "senders.yaml", "other.yaml"),
    ],
)
def test_everything_else_is_left_to_typer(args: tuple[str, ...], named: NamedServer, configs: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(configs)
    if len(args) > 2:  # only the fixture server is ever asked
        args = (*args, "--nameserver", named.nameserver)
    code, out, err, modules = fast_cli(*args, cwd=configs)
    assert "typer" in modules
    expected = typer_cli(*args)
    if "--help" in args:  # help is wrapped to the terminal's width, which CliRunner sets its own way
        assert code == expected[0] == 0 and out.startswith("Usage: python -m spfbuild flatten ")
        return
    name = "python -m spfbuild"  # the program name typer shows here, `spfbuild` under CliRunner
    assert (code, out.replace(name, "spfbuild"), err.replace(name, "spfbuild")) == expected
