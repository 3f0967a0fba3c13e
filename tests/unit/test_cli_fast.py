"""The fast way into `spfbuild lint` and `spfbuild render`: the same output and exit status as the
typer commands, typer parsing everything else, and none of the heavy modules imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from typer.testing import CliRunner

from spfbuild.cli import _register
from spfbuild.cli.app import app
from spfbuild.cli.fast import _path_text

_register()
runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[2] / "sample-configs"
SAMPLE = str(SAMPLES / "office365-mailchimp.yaml")
MSP = str(SAMPLES / "msp-domains.yaml")
HEAVY = ("typer", "click", "dns", "netaddr", "asyncio", "pydantic")


def cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> tuple[int, str, str, set[str]]:
    """`python -X importtime -m spfbuild ARGS`: status, stdout, stderr without the import lines,
    and the top-level packages imported."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "spfbuild", *args], input=stdin,
                          capture_output=True, text=True, env=env, cwd=cwd)
    imports: list[str] = []
    rest: list[str] = []
    for line in proc.stderr.splitlines(keepends=True):
        (imports if line.startswith("import time:") else rest).append(line)
    modules = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in imports[1:]}
    return proc.returncode, proc.stdout, "".join(rest), modules


def typer_cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", [("lint", "v=spf1 include:_netblocks.mimecast.com -all"), ("render", SAMPLE)])
def test_offline_commands_import_no_heavy_module(args: tuple[str, ...]) -> None:
    code, _, _, modules = cli(*args)
    assert code == 0
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_lint_reads_no_yaml_and_no_pathlib() -> None:
    _, _, _, modules = cli("lint", "v=spf1 mx -all")
    assert not modules & {"yaml", "pathlib", "typing"}, sorted(modules & {"yaml", "pathlib", "typing"})


def lint_cases(tmp: Path) -> list[tuple[tuple[str, ...], str | None]]:
    records = tmp / "records.txt"
    records.write_text("v=spf1 mx -all\n\n# comment\nv=spf1 ip4:1.2.3.4/33 -all\n", encoding="utf-8")
    empty = tmp / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    return [
        (("lint", "v=spf1 include:_netblocks.mimecast.com –all"), None),
        (("lint", "--json", "v=spf1 ip4:123.456.0.12 -all"), None),
        (("lint", "v=spf1 mx ?all", "--json"), None),
        (("lint", "--file", str(records)), None),
        (("lint", "-f", str(records), "--json"), None),
        (("lint", f"--file={records}"), None),
        (("lint", "--file", str(empty)), None),
        (("lint", "--file", f"{tmp}//missing/./file.txt"), None),
        (("lint", "--file", str(tmp)), None),
        (("lint", "-"), "v=spf1 mx -all\nv=spf1 a -all\n"),
        (("lint", "--file", "-"), "v=spf1 ptr -all\n"),
        (("lint",), None),
        (("lint", "v=spf1 -all", "--file", str(records)), None),
        (("lint", '"v=spf1 include:spf.protection.outlook.com " "-all"'), None),
    ]


def render_cases(tmp: Path) -> list[tuple[tuple[str, ...], str | None]]:
    bad = tmp / "bad.yaml"
    bad.write_text("domain: example.com\npolicy: fail\nsenders:\n  - provider: offic365\n", encoding="utf-8")
    return [
        (("render", SAMPLE), None),
        (("render", "-q", SAMPLE, "--format", "zone"), None),
        (("render", SAMPLE, "-F", "json"), None),
        (("render", SAMPLE, "--format=octodns"), None),
        (("render", str(SAMPLES / "mimecast-global-strict.yaml")), None),
        (("render", MSP, "--format", "octodns"), None),
        (("render", MSP, "-F", "zone", "--quiet"), None),
        (("render", str(bad)), None),
        (("render", str(tmp / "missing.yaml")), None),
        (("render", SAMPLE, "--existing", "v=spf1 a -all", "-q"), None),
        (("render", MSP, "--existing", "v=spf1 a -all"), None),
    ]


def test_fast_lint_and_render_match_the_typer_commands(tmp_path: Path) -> None:
    for args, stdin in [*lint_cases(tmp_path), *render_cases(tmp_path)]:
        code, out, err, modules = cli(*args, stdin=stdin)
        assert "typer" not in modules, args  # handled by the fast path
        assert (code, out, err) == typer_cli(*args, stdin=stdin), args


def test_output_files_match(tmp_path: Path) -> None:
    fast_out, typer_out = tmp_path / "fast", tmp_path / "typer"
    for args in (("-o", "{}/spf.txt"), ("-F", "octodns", "-o", "{}"), ("-F", "zone", "--output", "{}")):
        fast_out.mkdir(exist_ok=True)
        typer_out.mkdir(exist_ok=True)
        code, out, err, modules = cli("render", "-q", MSP if "octodns" in args else SAMPLE,
                                      *(a.format(fast_out) for a in args))
        assert "typer" not in modules
        expected = typer_cli("render", "-q", MSP if "octodns" in args else SAMPLE,
                             *(a.format(typer_out) for a in args))
        assert (code, out, err.replace(str(fast_out), "D")) == (expected[0], expected[1],
                                                                  expected[2].replace(str(typer_out), "D"))
        written = {p.name: p.read_text(encoding="utf-8") for p in fast_out.iterdir()}
        assert written == {p.name: p.read_text(encoding="utf-8") for p in typer_out.iterdir()}
        assert written


@pytest.mark.parametrize(
    "args",
    [
        ("lint", "--help"),
        ("lint", "--bogus"),
        ("lint", "v=spf1 -all", "v=spf1 mx -all"),
        ("lint", "--file"),
        ("lint", "--json", "--json", "v=spf1 -all"),
        ("lint", "--", "v=spf1 -all"),
        ("lint", "--json=yes", "v=spf1 -all"),
        ("render",),
        ("render", "--help"),
        (("render", SAMPLE, "--format", "xml")),
        (("render", SAMPLE, "-qF", "zone")),
        (("render", SAMPLE, "-q", "--existing", "v=spf1 a -all", "--existing", "v=spf1 mx -all")),
        ("--help",),
        ("rules", "SPF112"),
    ],
)
def test_everything_else_is_left_to_typer(args: tuple[str, ...]) -> None:
    code, out, err, modules = cli(*args)
    assert "typer" in modules
    expected = typer_cli(*args)
    if "--help" in args:  # help is wrapped to the terminal's width, which CliRunner sets its own way
        assert code == expected[0] == 0 and out.startswith("Usage: python -m spfbuild ")
        return
    name = "python -m spfbuild"  # the program name typer shows here, `spfbuild` under CliRunner
    assert (code, out.replace(name, "spfbuild"), err.replace(name, "spfbuild")) == expected


@pytest.mark.parametrize("text", ["a", "a/b", "./a", "a/./b/", "a//b", "/a", "//a", "///a", "////a/b", ".", "..",
                                  "../a/..", "-", "a/.hidden", "/", "//", "./"])
def test_path_text_is_what_pathlib_prints(text: str) -> None:
    assert _path_text(text) == str(PurePosixPath(text))
