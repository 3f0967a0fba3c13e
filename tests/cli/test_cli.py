"""The command line as a whole: one parser for every command, usage errors as one line with exit
status 64 (CONTRACTS.md's exit-code table), `--version`, and help that states the exit statuses."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from spfbuild.cli import application

app = application()
runner = CliRunner()
COMMANDS = ("lint", "render", "flatten", "check", "diff", "eval", "rules", "providers")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    assert run("--version") == (0, f"spfbuild {version('spfbuild')}\n", "")


def test_no_command_shows_the_commands_on_stderr_as_a_usage_error() -> None:
    code, out, err = run()
    assert (code, out) == (64, "")
    assert err.startswith("Usage: ") and all(command in err for command in COMMANDS)


def test_unknown_command() -> None:
    assert run("flaten") == (64, "", "spfbuild: error: no such command 'flaten'; did you mean 'flatten'? (see spfbuild --help)\n")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_an_unknown_option_in_one_line(command: str) -> None:
    code, out, err = run(command, "--no-such-option")
    assert (code, out) == (64, "")
    assert err.startswith("spfbuild: error: unknown option '--no-such-option'") and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", ["lint", "render", "flatten", "check", "diff", "eval"])
def test_help_states_the_usage_exit_status(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0
    assert "64 usage error" in " ".join(out.split())


def test_a_real_process_gives_the_same_line_and_status() -> None:
    done = subprocess.run([sys.executable, "-m", "spfbuild", "render", "x.yaml", "--format", "xml"],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (64, "")
    assert done.stderr == "spfbuild: error: --format must be one of txt, zone, json, octodns (got 'xml')\n"


def test_control_characters_in_what_was_typed_are_shown_escaped() -> None:
    code, _, err = run("lint", "--x\x1b[31m")
    assert code == 64
    assert err.startswith("spfbuild: error: unknown option '--x\\x1b[31m'")
