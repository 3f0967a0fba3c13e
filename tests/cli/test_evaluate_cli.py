"""`spfbuild eval` as scripts depend on it: the interface, output shapes and exit codes.

DNS comes from an in-memory zone here (the command's resolver is swapped); tests/bind runs the
same command against BIND.
"""

from __future__ import annotations

import json

import pytest
from support.memresolver import MemoryResolver
from typer.testing import CliRunner

from spfbuild.cli import application
from spfbuild.cli import eval as eval_cli

app = application()
runner = CliRunner()


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> MemoryResolver:
    resolver = MemoryResolver()
    resolver.txt("example.com", "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all exp=why.example.com")
    resolver.txt("_spf.example.net", "v=spf1 ip6:2001:db8::/32 -all")
    resolver.txt("why.example.com", "%{i} is not allowed to send as %{s}")
    resolver.txt("mx.example.org", "v=spf1 a -all").add("mx.example.org", "A", "198.51.100.25")
    monkeypatch.setattr(eval_cli, "make_resolver", lambda nameservers, timeout: resolver)
    return resolver


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["eval", *args])
    return result.exit_code, result.stdout, result.stderr


def test_first_line_is_the_result_with_what_matched_and_the_lookups(zone: MemoryResolver) -> None:
    code, out, _ = run("--ip", "192.0.2.7", "--sender", "jane@example.com")
    assert code == 0
    assert out.splitlines()[0] == "pass (matched ip4:192.0.2.0/24 in example.com; 0 lookups)"


def test_an_include_match_names_the_path(zone: MemoryResolver) -> None:
    _, out, _ = run("--ip", "2001:DB8::7", "--sender", "jane@example.com")
    assert out.splitlines()[0] == (
        "pass (matched ip6:2001:db8::/32 in _spf.example.net via include:_spf.example.net in example.com; 1 lookup)"
    )


def test_expect_exits_0_when_the_result_is_the_one_expected(zone: MemoryResolver) -> None:
    code, out, err = run("--ip", "192.0.2.7", "--sender", "jane@example.com", "--expect", "PASS")
    assert (code, out.splitlines()[0], err) == (0, "pass (matched ip4:192.0.2.0/24 in example.com; 0 lookups)", "")


def test_expect_exits_1_when_the_result_differs_and_keeps_the_result_on_stdout(zone: MemoryResolver) -> None:
    code, out, err = run("--ip", "203.0.113.9", "--sender", "jane@example.com", "--expect", "pass", "--json")
    assert code == 1
    assert json.loads(out)["result"] == "fail"
    assert err == "spfbuild: error: expected pass, got fail\n"


def test_fail_shows_the_explanation(zone: MemoryResolver) -> None:
    _, out, _ = run("--ip", "203.0.113.9", "--sender", "jane@example.com")
    assert out.splitlines() == [
        "fail (matched -all in example.com; 1 lookup)",
        "explanation: 203.0.113.9 is not allowed to send as jane@example.com",
    ]


@pytest.mark.parametrize(
    ("sender", "first"),
    [
        ("u@nowhere.example", "none (nowhere.example has no SPF record; 0 lookups)"),
        ("u@localhost", "none ('localhost' is not a valid domain name: not a multi-label domain name; 0 lookups)"),
    ],
)
def test_none_says_why_and_exits_0(zone: MemoryResolver, sender: str, first: str) -> None:
    code, out, _ = run("--ip", "192.0.2.1", "--sender", sender)
    assert (code, out.splitlines()[0]) == (0, first)


def test_json_is_one_object_with_the_documented_keys(zone: MemoryResolver) -> None:
    code, out, _ = run("--json", "--ip", "203.0.113.9", "--sender", "jane@example.com", "--helo", "mx.example.org")
    assert code == 0
    payload = json.loads(out)
    assert payload == {
        "result": "fail",
        "explanation": "203.0.113.9 is not allowed to send as jane@example.com",
        "lookups": 1,
        "void_lookups": 0,
        "domain": "example.com",
        "sender": "jane@example.com",
        "ip": "203.0.113.9",
        "helo": "mx.example.org",
        "problem": None,
        "matched": [{"domain": "example.com", "term": "-all"}],
    }


@pytest.mark.parametrize(
    ("mailfrom", "helo", "sender", "domain"),
    [
        ("", "mx.example.org", "postmaster@mx.example.org", "mx.example.org"),  # RFC 7208 2.4
        ("example.com", "", "postmaster@example.com", "example.com"),
        ("@example.com", "", "postmaster@example.com", "example.com"),
        ("Jane+Tag@example.com", "", "Jane+Tag@example.com", "example.com"),
    ],
)
def test_identity(zone: MemoryResolver, mailfrom: str, helo: str, sender: str, domain: str) -> None:
    _, out, _ = run("--json", "--ip", "198.51.100.25", "--sender", mailfrom, "--helo", helo)
    payload = json.loads(out)
    assert (payload["sender"], payload["domain"]) == (sender, domain)


def test_an_empty_mail_from_is_checked_against_the_helo(zone: MemoryResolver) -> None:
    _, out, _ = run("--ip", "198.51.100.25", "--sender", "", "--helo", "mx.example.org")
    assert out.startswith("pass (matched a in mx.example.org;")


def test_trace_follows_the_result_line(zone: MemoryResolver) -> None:
    _, out, _ = run("--trace", "--ip", "203.0.113.9", "--sender", "jane@example.com")
    lines = out.splitlines()
    assert lines[0].startswith("fail ")
    assert "  [example.com] record: v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all exp=why.example.com" in lines
    assert "  [example.com] trying include:_spf.example.net (DNS lookup 1)" in lines
    assert "    [_spf.example.net] record: v=spf1 ip6:2001:db8::/32 -all" in lines
    assert "  [example.com] -all matched: fail" in lines
    assert lines[-1] == "  lookups: 1/10, void lookups: 0/2"


def test_json_trace_stays_inside_the_one_object(zone: MemoryResolver) -> None:
    _, out, _ = run("--json", "--trace", "--ip", "192.0.2.1", "--sender", "jane@example.com")
    payload = json.loads(out)
    assert payload["trace"][0] == {
        "depth": 0, "domain": "example.com", "kind": "record", "lookups": 0,
        "text": "record: v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all exp=why.example.com",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sender", "a@example.com"], "spfbuild: error: --ip is required (the connecting client's address)\n"),
        (["--ip", "192.0.2.1"], 'spfbuild: error: --sender is required (the MAIL FROM address; --sender "" for a bounce)\n'),
        (["--ip", "192.0.2.256", "--sender", "a@example.com"],
         "spfbuild: error: --ip: '192.0.2.256' is not an IPv4 or IPv6 address\n"),
        (["--ip", "192.0.2.1", "--sender", "a@example.com", "--expect", "hardfail"],
         "spfbuild: error: --expect must be one of pass, fail, softfail, neutral, none, permerror, temperror "
         "(got 'hardfail')\n"),
        (["--ip", "192.0.2.1", "--sender", "a@example.com", "--timeout", "0"],
         "spfbuild: error: --timeout must be a positive number of seconds, not 0\n"),
        (["--ip", "192.0.2.1", "--sender", "a@example.com", "--nameserver", "127.0.0.1:99999"],
         "spfbuild: error: --nameserver: bad nameserver '127.0.0.1:99999': port must be 1-65535\n"),
    ],
)
def test_usage_errors_are_one_line_and_exit_64(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert (code, out, err) == (64, "", message)
