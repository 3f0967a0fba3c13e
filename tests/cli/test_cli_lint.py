"""`spfbuild lint` and `spfbuild rules` as scripts use them: output shapes and exit codes; the offline
commands start without the DNS stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spfbuild.cli import application
from spfbuild.rules.registry import RULES

app = application()
runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[2] / "sample-configs" / "office365-mailchimp.yaml"


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


def test_file_given_as_one_argument_and_as_json(tmp_path: Path) -> None:
    path = tmp_path / "records.txt"
    path.write_text("v=spf1 mx -all\n\n# comment\nv=spf1 ip4:1.2.3.4/33 -all\n", encoding="utf-8")
    assert run("lint", f"--file={path}") == run("lint", "--file", str(path))
    code, out, _ = run("lint", "-f", str(path), "--json")
    assert code == 1
    assert [(item["source"], item["line"], item["ok"]) for item in json.loads(out)] == [
        (str(path), 1, True), (str(path), 4, False),
    ]


def test_file_dash_reads_stdin() -> None:
    code, out, _ = run("lint", "--file", "-", stdin="v=spf1 ptr -all\n")
    assert code == 0
    assert out.startswith("<stdin>:1:8: warning SPF205 [ptr-mechanism]")


def test_pasted_txt_strings_are_joined_without_spaces() -> None:
    code, out, _ = run("lint", '"v=spf1 include:spf.protection.outlook.com " "-all"', "--json")
    assert code == 0
    assert json.loads(out)[0]["record"] == "v=spf1 include:spf.protection.outlook.com -all"


def test_options_before_or_after_the_record_repeated_flags_and_the_end_of_options() -> None:
    assert run("lint", "v=spf1 mx ?all", "--json")[0] == 0
    code, out, _ = run("lint", "--json", "--json", "v=spf1 -all")
    assert code == 0 and json.loads(out)[0]["ok"] is True
    assert run("lint", "--", "v=spf1 -all") == (0, "1 record checked: 0 errors, 0 warnings, 0 notes\n", "")


def usage_cases(tmp: Path) -> list[tuple[list[str], str]]:
    empty = tmp / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    return [
        (["lint"], "give a RECORD, - for stdin, or --file PATH (see spfbuild lint --help)"),
        (["lint", "v=spf1 -all", "--file", "x"], "give either a RECORD or --file, not both"),
        (["lint", "--file", f"{tmp}//missing/./file.txt"], f"{tmp}/missing/file.txt: cannot read: No such file or directory"),
        (["lint", "--file", str(tmp)], f"{tmp}: cannot read: Is a directory"),
        (["lint", "--file", str(empty)], f"{empty}: no records to lint"),
        (["lint", "--bogus"], "unknown option '--bogus' (see spfbuild lint --help)"),
        (["lint", "--jsn", "v=spf1 -all"], "unknown option '--jsn'; did you mean --json? (see spfbuild lint --help)"),
        (["lint", "v=spf1 -all", "v=spf1 mx -all"], "got unexpected extra argument(s) (v=spf1 mx -all) (see spfbuild lint --help)"),
        (["lint", "--file"], "option '--file' requires an argument"),
        (["lint", "--json=yes", "v=spf1 -all"], "option '--json' does not take a value"),
        (["rules", "SPF999"], "unknown rule 'SPF999'; `spfbuild rules` lists them"),
    ]


def test_usage_errors_exit_64_with_one_line(tmp_path: Path) -> None:
    for args, message in usage_cases(tmp_path):
        assert run(*args) == (64, "", f"spfbuild: error: {message}\n"), args


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
    assert proc.returncode in (1, 64)
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args",
    [["lint", "v=spf1 -all"], ["render", str(SAMPLE)], ["rules"], ["rules", "SPF112"], ["providers"],
     ["providers", "show", "mimecast"]],
    ids=" ".join,
)
def test_offline_commands_import_no_asyncio_dnspython_or_netaddr(args: list[str]) -> None:
    code = (
        "import sys; from spfbuild.cli import main; sys.argv = ['spfbuild', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert done.code == 0, done.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'asyncio', 'dns', 'netaddr'}), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1] == "[]"
