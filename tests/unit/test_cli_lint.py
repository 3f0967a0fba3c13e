"""`spfbuild lint` and `spfbuild rules` as scripts use them: output shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spfbuild.cli import _register
from spfbuild.cli.app import app
from spfbuild.rules.registry import RULES

_register()
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_clean_record_exits_0() -> None:
    record = "v=spf1 include:spf.protection.outlook.com include:servers.mcsv.net ip4:178.251.192.3 -all"
    code, out, _ = run("lint", record)
    assert code == 0
    assert "0 errors" in out


def test_error_exits_1_with_caret_and_fix() -> None:
    code, out, _ = run("lint", "v=spf1 include:_netblocks.mimecast.com –all")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("<record>:1:40: error SPF112 [typographic-lookalike]")
    assert lines[2] == " " * (2 + 39) + "^"
    assert lines[3] == "  fix: v=spf1 include:_netblocks.mimecast.com -all"


def test_warnings_alone_exit_0() -> None:
    code, _, _ = run("lint", "v=spf1 mx ?all")
    assert code == 0


def test_json_output() -> None:
    code, out, _ = run("lint", "--json", "v=spf1 ip4:123.456.0.12 -all")
    assert code == 1
    (item,) = json.loads(out)
    assert item["record"] == "v=spf1 ip4:123.456.0.12 -all"
    assert item["ok"] is False
    (diag,) = item["diagnostics"]
    assert diag["code"] == "SPF107" and diag["severity"] == "error" and diag["column"] == 12


def test_file_with_one_record_per_line(tmp_path: Path) -> None:
    path = tmp_path / "records.txt"
    path.write_text("v=spf1 mx -all\n\n# comment\nv=spf1 ip4:1.2.3.4/33 -all\n", encoding="utf-8")
    code, out, _ = run("lint", "--file", str(path))
    assert code == 1
    assert f"{path}:4:" in out
    assert "2 records checked: 1 error" in out


def test_stdin_with_dash() -> None:
    code, out, _ = run("lint", "-", stdin="v=spf1 mx -all\nv=spf1 a -all\n")
    assert code == 0
    assert "2 records checked" in out


@pytest.mark.parametrize(
    "args",
    [["lint"], ["lint", "v=spf1 -all", "--file", "x"], ["lint", "--file", "/nonexistent/file"], ["rules", "SPF999"]],
)
def test_usage_errors_exit_2_with_one_line(args: list[str]) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert "Traceback" not in err


def test_rules_lists_and_explains() -> None:
    code, out, _ = run("rules")
    assert code == 0
    assert "SPF112  typographic-lookalike" in out
    code, out, _ = run("rules", "SPF112", "--json")
    assert json.loads(out)["name"] == "typographic-lookalike"


def test_rules_lists_every_rule_once_in_code_order() -> None:
    code, out, _ = run("rules")
    assert code == 0
    assert [line.split()[:3] for line in out.splitlines()] == [[r.code, r.name, r.severity.value] for r in RULES]


def test_rules_explains_one_rule_with_its_summary_explanation_and_fix() -> None:
    rule = RULES[0]
    code, out, _ = run("rules", rule.name)
    assert code == 0
    assert out == (f"{rule.code} {rule.name} ({rule.severity.value})\n\n{rule.summary}\n\n{rule.explanation}\n"
                   f"\nFix: {rule.fix}\n")


@pytest.mark.parametrize("args", [["rules"], ["rules", "SPF112"], ["rules", "--json"]])
def test_rules_imports_no_dns_asyncio_parser_or_tree(args: list[str]) -> None:
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['spfbuild', *{args!r}]\n"
        "try:\n    runpy.run_module('spfbuild', run_name='__main__')\nexcept SystemExit: pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "SPF1" in proc.stdout, proc.stderr  # the command ran to its end
    loaded = set(proc.stderr.split())
    assert "spfbuild.rules.registry" in loaded
    heavy = {"asyncio", "dns", "netaddr", "spfbuild.dns", "spfbuild.tree", "spfbuild.record", "spfbuild.mechanisms"}
    assert not loaded & heavy


def test_no_traceback_for_binary_junk() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spfbuild", "lint", "-"], input=b"\xff\xfe\x00v=spf1\n", capture_output=True
    )
    assert proc.returncode in (1, 2)
    assert b"Traceback" not in proc.stderr


def test_offline_commands_do_not_import_the_dns_stack() -> None:
    code = (
        "import sys; from spfbuild.cli import main; sys.argv=['spfbuild','lint','v=spf1 -all']\n"
        "try:\n    main()\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('dns', 'netaddr'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
