"""`spfbuild eval` run as scripts run it (a subprocess, --nameserver at a real BIND 9)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
from support.named import NamedServer


def spfbuild(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spfbuild", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def eval_at(named: NamedServer, *args: str) -> subprocess.CompletedProcess[str]:
    return spfbuild("eval", "--nameserver", named.nameserver, "--timeout", "2", *args)


def test_first_line_starts_with_the_result_and_names_what_matched(named: NamedServer) -> None:
    done = eval_at(named, "--ip", "192.0.2.1", "--sender", "user@inc.eval.test")
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first == "pass (matched ip4:192.0.2.0/24 in ip4.eval.test via include:ip4.eval.test in inc.eval.test; 1 lookup)"


@pytest.mark.parametrize(
    ("sender", "ip", "result"),
    [
        ("user@mx.eval.test", "192.0.2.21", "pass"),
        ("user@ip4.eval.test", "198.51.100.1", "fail"),
        ("user@inc-softfail.eval.test", "198.51.100.1", "neutral"),
        ("user@nodata.eval.test", "192.0.2.1", "none"),
        ("user@limit11.eval.test", "192.0.2.1", "permerror"),
        ("user@inc-refused.eval.test", "192.0.2.1", "temperror"),
    ],
)
def test_exit_status_is_0_for_every_result(named: NamedServer, sender: str, ip: str, result: str) -> None:
    done = eval_at(named, "--ip", ip, "--sender", sender)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(" ", 1)[0].strip() == result


def test_json_carries_the_expanded_explanation(named: NamedServer) -> None:
    done = eval_at(named, "--json", "--ip", "198.51.100.9", "--sender", "jane@exp.eval.test", "--helo", "mx.example")
    payload = json.loads(done.stdout)
    assert payload["result"] == "fail"
    assert payload["explanation"].startswith("198.51.100.9 may not send for exp.eval.test (jane at exp.eval.test,")
    assert (payload["lookups"], payload["void_lookups"]) == (0, 0)
    assert (payload["domain"], payload["sender"], payload["ip"]) == (
        "exp.eval.test", "jane@exp.eval.test", "198.51.100.9"
    )


def test_json_explanation_is_null_unless_fail(named: NamedServer) -> None:
    payload = json.loads(eval_at(named, "--json", "--ip", "192.0.2.1", "--sender", "j@exp.eval.test").stdout)
    assert (payload["result"], payload["explanation"]) == ("pass", None)


def test_void_lookups_are_reported(named: NamedServer) -> None:
    payload = json.loads(eval_at(named, "--json", "--ip", "192.0.2.1", "--sender", "j@void2.eval.test").stdout)
    assert (payload["result"], payload["lookups"], payload["void_lookups"]) == ("pass", 2, 2)


def test_empty_mail_from_checks_postmaster_at_the_helo(named: NamedServer) -> None:
    payload = json.loads(
        eval_at(named, "--json", "--ip", "192.0.2.10", "--sender", "", "--helo", "a.eval.test").stdout
    )
    assert (payload["result"], payload["sender"], payload["domain"]) == ("pass", "postmaster@a.eval.test", "a.eval.test")


def test_ipv6_written_in_upper_case(named: NamedServer) -> None:
    done = eval_at(named, "--ip", "2001:DB8::10", "--sender", "u@a.eval.test")
    assert done.stdout.startswith("pass ")


def test_trace_follows_the_result_line(named: NamedServer) -> None:
    done = eval_at(named, "--trace", "--ip", "198.51.100.7", "--sender", "u@redir.eval.test")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("fail (matched -all in ip4.eval.test via redirect=ip4.eval.test in redir.eval.test")
    trace = "\n".join(lines[1:])
    assert "v=spf1 redirect=ip4.eval.test" in trace  # each record fetched
    assert "trying ip4:192.0.2.0/24" in trace  # each term tried
    assert "-all matched: fail" in trace  # the one that matched
    assert "lookups: 1/10" in trace


def test_json_with_trace_is_still_one_object(named: NamedServer) -> None:
    payload = json.loads(eval_at(named, "--json", "--trace", "--ip", "192.0.2.1", "--sender", "u@inc.eval.test").stdout)
    assert [event["kind"] for event in payload["trace"]][:2] == ["record", "term"]


def test_unreachable_server_gives_temperror_within_the_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    done = spfbuild(
        "eval", "--ip", "192.0.2.1", "--sender", "u@eval.test", "--nameserver", f"127.0.0.1:{port}", "--timeout", "1"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("temperror ")
    assert time.monotonic() - started < 1.0 + 3.0  # the timeout, plus interpreter start-up
