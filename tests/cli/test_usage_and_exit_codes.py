"""The command line's own words: usage lines as manual pages write them, the exit-code table
under every command's --help, spfbuild's messages for refused values (never a library's), and
64 for every usage error: a misspelt option, a bad value, a missing input file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "sample-configs"
SAMPLE = str(SAMPLES / "office365-mailchimp.yaml")
COMMANDS = ["render", "flatten", "lint", "check", "diff", "eval", "rules", "providers", "providers show"]
TABLE = [
    "Exit codes (every command):",
    "0   done; nothing to report or nothing changed",
    "2   changes pending (flatten --check, diff)",
    "64  usage error: unknown or misspelt option, bad value, missing or",
]


def spfbuild(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("spfbuild")  # the installed command, as users run it
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=60,
                          check=False, cwd=cwd)


@pytest.mark.parametrize(("command", "usage"), [
    ("render", "Usage: spfbuild render [OPTIONS] CONFIG"),
    ("flatten", "Usage: spfbuild flatten [OPTIONS] CONFIG"),
    ("lint", "Usage: spfbuild lint [OPTIONS] [RECORD]"),
    ("check", "Usage: spfbuild check [OPTIONS] [DOMAIN]..."),
    ("diff", "Usage: spfbuild diff [OPTIONS] CONFIG"),
    ("providers show", "Usage: spfbuild providers show [OPTIONS] ID"),
])
def test_usage_lines_name_arguments_plainly(command: str, usage: str) -> None:
    done = spfbuild(*command.split(), "--help")
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == usage
    assert "{" not in done.stdout.splitlines()[0] and "[[" not in done.stdout


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_ends_with_the_exit_code_table(command: str) -> None:
    done = spfbuild(*command.split(), "--help")
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert all(row in lines for row in TABLE), done.stdout


def test_the_readme_holds_the_same_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for code, meaning in [("0", "done; nothing to report or nothing changed"), ("2", "changes pending"),
                          ("3", "DNS or network failure"), ("64", "usage error")]:
        assert any(line.startswith(f"| {code} | {meaning}") for line in readme.splitlines()), code


@pytest.mark.parametrize(("args", "message"), [
    (["flatten", "--check", "--max-shrnk", "10", SAMPLE],
     "spfbuild: error: unknown option '--max-shrnk'; did you mean --max-shrink? (see spfbuild flatten --help)"),
    (["render", "missing.yaml"], "spfbuild: error: missing.yaml: cannot read: No such file or directory"),
    (["flatten", "missing.yaml", "--nameserver", "127.0.0.1:9"],
     "spfbuild: error: missing.yaml: cannot read: No such file or directory"),
    (["lint", "--file", "missing.txt"], "spfbuild: error: missing.txt: cannot read: No such file or directory"),
    (["render", "-F", "yaml", SAMPLE], "spfbuild: error: --format must be one of txt, zone, json, octodns (got 'yaml')"),
    (["render"], "spfbuild: error: missing argument CONFIG (see spfbuild render --help)"),
    (["flatten", SAMPLE, "--state", "s.json", "--tsig-key", "k", "--push", "rfc2136://127.0.0.1:9/a.example",
      "--push", "rfc2136://127.0.0.1:9/b.example"],
     "spfbuild: error: --push may be given once (got 2)"),
    (["render", SAMPLE, "--providers", "no-such-dir"], "spfbuild: error: no-such-dir: provider directory does not exist"),
    (["check", "--from-file", "missing.txt"], "spfbuild: error: --from-file: cannot read missing.txt: No such file or "
                                              "directory"),
])
def test_usage_errors_exit_64_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    done = spfbuild(*args, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (64, "")
    assert done.stderr == message + "\n"
    assert "Value error" not in done.stderr and "Traceback" not in done.stderr


def test_a_finding_about_the_whole_record_is_located_at_column_1() -> None:
    record = "v=spf1 " + " ".join(f"include:s{i}.example.net" for i in range(11)) + " -all"
    done = spfbuild("lint", record)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("<record>:1:1: error SPF400 [too-many-lookups]")
