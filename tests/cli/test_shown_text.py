"""What spfbuild prints for people keeps every value on its line: a line break, a tab or a
terminal escape in a name from the command line, a config or DNS is shown escaped, in the
reports on stdout and in the messages on stderr alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def spfbuild(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("spfbuild")  # the installed command, as users run it
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=60, check=False)


def test_a_checked_name_with_a_line_break_stays_on_its_lines() -> None:
    done = spfbuild("check", "a\nb.example", "--nameserver", "127.0.0.1:9", "--timeout", "1")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "a\\nb.example  (not checked)"
    assert "\x1b" not in done.stdout


def test_an_evaluation_about_a_name_with_controls_is_one_line() -> None:
    done = spfbuild("eval", "--ip", "192.0.2.1", "--sender", "a@b\n\x1b[2Jc.example", "--nameserver", "127.0.0.1:9",
                    "--timeout", "1")
    assert done.returncode == 0
    (line,) = done.stdout.splitlines()
    assert line.startswith("temperror (") and "b\\n\\x1b[2jc.example" in line  # names are asked lower-cased


def test_an_error_message_quoting_a_value_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("domain: example.com\npolicy: fail\nsenders:\n  - include: \"_spf.\\x1b[31m.example\"\n")
    done = spfbuild("render", str(config))
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("spfbuild: error: ") and "\x1b" not in line
