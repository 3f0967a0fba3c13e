"""Fuzzing `spfbuild lint` through the real entry point (`spfbuild.cli.main`, with its stream
set-up and its last-resort error handler): any record text, as an argument, on stdin or in a
file, gives findings and exit status 0, 1 or 64 (usage), never an internal error or a traceback.

Runs in-process for speed; a few subprocess cases check what only a real process has (argv
and stdin octets that are not UTF-8). Example counts come from the hypothesis profile
(tests/conftest.py): HYPOTHESIS_PROFILE=long runs many more.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfbuild.cli import main

SUMMARY = " checked: "


def run_main(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """`spfbuild ARGS` in this process, with byte streams as a real process has."""
    out, err = io.BytesIO(), io.BytesIO()
    streams = {
        "stdout": io.TextIOWrapper(out, encoding="utf-8", write_through=True),
        "stderr": io.TextIOWrapper(err, encoding="utf-8", write_through=True),
        "stdin": io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8", "surrogateescape")), encoding="utf-8",
                                  errors="surrogateescape"),
    }
    code: int | str | None = 0
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(sys, "argv", ["spfbuild", *args]))
        for name, stream in streams.items():
            stack.enter_context(mock.patch.object(sys, name, stream))
        stack.enter_context(mock.patch.dict(os.environ, {"SPFBUILD_DEBUG": ""}))
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    assert isinstance(code, int), code
    return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def assert_clean(code: int, out: str, err: str) -> None:
    assert "internal error" not in err and "Traceback" not in err + out, err
    assert code in (0, 1, 64), (code, err)


record_like = st.builds(
    lambda body: "v=spf1 " + body,
    st.text(alphabet="abcdefilmnoprstx0123456789:/.%{}-~?+=_ \t\"\u2013\u2019\u200b\u00a0é\udcff", max_size=80),
)
any_text = st.text(max_size=120)
pasted = st.builds(lambda parts: " ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in parts),
                   st.lists(st.text(max_size=300), min_size=1, max_size=3))


@given(st.one_of(record_like, any_text, pasted))
@settings()
def test_any_record_argument(text: str) -> None:
    code, out, err = run_main("lint", "--", text)
    assert_clean(code, out, err)
    if code != 64:
        assert SUMMARY in out.splitlines()[-1]


@given(st.one_of(record_like, any_text, pasted))
@settings()
def test_any_record_as_json(text: str) -> None:
    code, out, err = run_main("lint", "--json", "--", text)
    assert_clean(code, out, err)
    if code != 64:
        (item,) = json.loads(out)
        assert item["ok"] == (code == 0)


@given(st.lists(st.one_of(record_like, any_text), max_size=6))
@settings()
def test_any_lines_on_stdin(lines: list[str]) -> None:
    code, out, err = run_main("lint", "-", stdin="\n".join(lines))
    assert_clean(code, out, err)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-lint")


@given(data=st.binary(max_size=300))
@settings()
def test_any_file(scratch: Path, data: bytes) -> None:
    path = scratch / "records.txt"
    path.write_bytes(data)
    code, out, err = run_main("lint", "--file", str(path))
    assert_clean(code, out, err)


@given(st.lists(st.sampled_from(["--json", "--file", "-f", "-", "--help", "--bogus", "v=spf1 -all", "", "x"]),
                max_size=4))
@settings()
def test_any_options(args: list[str]) -> None:
    code, out, err = run_main("lint", *args, stdin="v=spf1 mx -all\n")
    assert_clean(code, out, err)


# ---------------------------------------------------------------- what only a real process shows


def spfbuild(args: list[bytes], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable.encode(), b"-m", b"spfbuild", *args], input=stdin, capture_output=True,
                          timeout=60, check=False)


def test_argv_octets_that_are_not_utf8_are_findings() -> None:
    done = spfbuild([b"lint", b"v=spf1 ip4:192.0.2.1 \xff -all"])
    assert done.returncode == 1, done.stderr
    assert b"octet 0xFF (not UTF-8) is not allowed" in done.stdout
    assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr


def test_long_text_with_multibyte_characters_is_split_on_character_boundaries() -> None:
    done = spfbuild([b"lint", b"v=spf1 a:x" + "é".encode() * 200])
    assert done.returncode == 1, done.stderr
    assert b"string-too-long" in done.stdout and b"internal error" not in done.stderr


def test_stdin_octets_that_are_not_utf8_are_findings() -> None:
    done = spfbuild([b"lint", b"-"], stdin=b"v=spf1 \xfe\xff -all\n")
    assert done.returncode == 1, done.stderr
    assert b"octet 0xFE (not UTF-8)" in done.stdout


def test_stdin_octets_that_are_not_utf8_under_a_strict_utf8_locale() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}  # as under LANG=en_US.UTF-8
    done = subprocess.run([sys.executable, "-m", "spfbuild", "lint", "-"], input=b"v=spf1 \xff -all\n",
                          capture_output=True, timeout=60, check=False, env=env)
    assert b"internal error" not in done.stderr and done.returncode in (1, 64), done.stderr
