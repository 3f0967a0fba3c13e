"""`spfbuild check` run as scripts run it (a subprocess, --nameserver at a real BIND 9), one
zone name per rule case (tests/bind/zones/check.test.zone)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.named import NamedServer

# name (under check.test) -> the SPF5xx codes `check` must report for it; every other SPF5xx must stay quiet.
EXPECTED: dict[str, set[str]] = {
    "clean": set(),
    "nospf": {"SPF501"},
    "absent": {"SPF501"},
    "two": {"SPF502"},
    "lookups11": {"SPF506"},
    "lookups10": set(),
    "void3": {"SPF507"},
    "void2": set(),
    "loop-a": {"SPF505"},
    "inc-missing": {"SPF504"},
    "redirect-missing": {"SPF504"},
    "inc-refused": {"SPF510"},
    "mx11": {"SPF508"},
    "mx10": set(),
    "pool-user": {"SPF509"},
    "inc-open": {"SPF511"},
    "mimecast-twice": {"SPF512"},
    "mimecast-via": {"SPF512"},
    "mimecast-mx": {"SPF513"},
    "inc-large": {"SPF514"},
    "spf99": {"SPF516"},
    "bigtxt": {"SPF515"},
    "inc-badip": {"SPF503"},
    "inc-badcidr": {"SPF503"},
}


def spfbuild(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spfbuild", *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
    )


def check(named: NamedServer, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return spfbuild("check", "--nameserver", named.nameserver, "--timeout", "2", *args, stdin=stdin)


@pytest.fixture(scope="module")
def every_case(named: NamedServer) -> dict[str, dict[str, Any]]:
    """One --json run over every case name, by name."""
    done = check(named, "--json", *(f"{name}.check.test" for name in EXPECTED))
    assert done.returncode == 3, done.stderr  # inc-refused could not be checked: a DNS failure
    assert done.stderr == ""
    reports = json.loads(done.stdout)
    return {report["domain"].removesuffix(".check.test"): report for report in reports}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_case_reports_exactly_its_dns_rules(every_case: dict[str, dict[str, Any]], name: str) -> None:
    found = {f["code"] for f in every_case[name]["findings"] if f["code"].startswith("SPF5")}
    assert found == EXPECTED[name]


def test_the_json_contract(every_case: dict[str, dict[str, Any]]) -> None:
    assert list(every_case) == list(EXPECTED)  # one object per input domain, in input order
    for report in every_case.values():
        assert {"domain", "record", "lookups", "findings"} <= set(report)
        for finding in report["findings"]:
            assert {"code", "name", "severity", "message"} <= set(finding)
            assert finding["severity"] in ("error", "warning", "info")
    absent = every_case["absent"]
    assert (absent["record"], absent["lookups"]) == (None, 0)
    clean = every_case["clean"]
    assert clean["record"] == (
        "v=spf1 include:_spf.google.com include:spf.protection.outlook.com mx a:out.check.test -all"
    )
    assert (clean["lookups"], clean["findings"]) == (7, [])


def test_messages_name_what_is_wrong_and_where(every_case: dict[str, dict[str, Any]], named: NamedServer) -> None:
    def message(name: str, code: str) -> str:
        (found,) = [f["message"] for f in every_case[name]["findings"] if f["code"] == code]
        return str(found)

    assert message("lookups11", "SPF506") == (
        "11 DNS lookups over the include tree (the limit is 10): include:_spf.google.com 4, "
        "include:_netblocks.mimecast.com 7"
    )
    assert message("loop-a", "SPF505") == (
        "include loop: loop-a.check.test -> loop-b.check.test -> loop-a.check.test"
    )
    assert message("inc-badip", "SPF503").startswith(
        "include:badip.check.test in inc-badip.check.test: the record of badip.check.test has a syntax error"
    )
    assert "/33" in message("inc-badcidr", "SPF503")
    assert message("inc-refused", "SPF510") == (
        f"include:spf.unserved.test in inc-refused.check.test: REFUSED from {named.nameserver} for spf.unserved.test TXT"
    )
    assert message("mimecast-mx", "SPF513").startswith(
        "mx in mimecast-mx.check.test: the MX hosts (eu-smtp-inbound-1.mimecast.com, "
        "eu-smtp-inbound-2.mimecast.com) belong to Mimecast"
    )


def test_tree_key_carries_each_branch_cost(every_case: dict[str, dict[str, Any]]) -> None:
    tree = every_case["lookups11"]["tree"]
    assert [(c["via"], c["lookups"]) for c in tree["children"]] == [
        ("include:_spf.google.com", 4), ("include:_netblocks.mimecast.com", 7),
    ]


class TestExitStatus:
    def test_0_when_clean(self, named: NamedServer) -> None:
        done = check(named, "clean.check.test")
        assert done.returncode == 0, done.stdout + done.stderr

    def test_0_when_only_warnings(self, named: NamedServer) -> None:
        done = check(named, "mimecast-twice.check.test", "pool-user.check.test")
        assert done.returncode == 0, done.stdout
        assert "warning SPF512 [duplicate-provider]" in done.stdout

    def test_1_when_one_domain_has_an_error(self, named: NamedServer) -> None:
        assert check(named, "clean.check.test", "two.check.test").returncode == 1

    def test_3_when_a_domain_could_not_be_checked_for_a_dns_failure(self, named: NamedServer) -> None:
        assert check(named, "clean.check.test", "inc-refused.check.test").returncode == 3
        assert check(named, "two.check.test", "inc-refused.check.test").returncode == 3  # retry first, then fix

    def test_bad_domain_is_an_error_finding_not_a_crash(self, named: NamedServer) -> None:
        done = check(named, "--json", "clean.check.test", "not a domain", "http://x/", "x" * 70 + ".test")
        assert done.returncode == 1 and done.stderr == ""
        reports = json.loads(done.stdout)
        assert [r["domain"] for r in reports] == ["clean.check.test", "not a domain", "http://x/", "x" * 70 + ".test"]
        for report in reports[1:]:
            assert [f["code"] for f in report["findings"]] == ["SPF500"]
            assert report["record"] is None

    @pytest.mark.parametrize(
        "args",
        [(), ("--from-file", "/nonexistent/domains.txt"), ("--concurrency", "0", "x.test"),
         ("--timeout", "-1", "x.test"), ("--nameserver", "127.0.0.1:99999", "x.test"), ("--bogus",)],
        ids=["no-domains", "unreadable-file", "concurrency-0", "negative-timeout", "bad-port", "unknown-option"],
    )
    def test_64_on_usage_errors(self, args: tuple[str, ...]) -> None:
        done = spfbuild("check", *args)
        assert done.returncode == 64, done.stdout + done.stderr
        assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("spfbuild: error: ")
        assert "Traceback" not in done.stderr and done.stdout == ""

    def test_help_documents_exit_status(self) -> None:
        done = spfbuild("check", "--help")
        assert done.returncode == 0
        text = " ".join(done.stdout.split())
        assert "Exit status: 0 no domain has an error" in text and "3 a domain could not be checked for a DNS failure" in text and "64 usage error" in text


class TestInput:
    def test_from_file_skips_blank_lines_and_comments(self, named: NamedServer, tmp_path: Path) -> None:
        listing = tmp_path / "domains.txt"
        listing.write_text("# our domains\n\nclean.check.test\n  two.check.test   # broken\n\n")
        done = check(named, "--json", "--from-file", str(listing), "void2.check.test")
        assert [r["domain"] for r in json.loads(done.stdout)] == [
            "void2.check.test", "clean.check.test", "two.check.test",
        ]

    def test_from_stdin(self, named: NamedServer) -> None:
        done = check(named, "--json", "--from-file", "-", stdin="clean.check.test\nmx10.check.test\n")
        assert done.returncode == 0
        assert [r["domain"] for r in json.loads(done.stdout)] == ["clean.check.test", "mx10.check.test"]


class TestHumanOutput:
    def test_tree_with_costs_then_findings(self, named: NamedServer) -> None:
        done = check(named, "lookups11.check.test")
        assert done.stdout.splitlines() == [
            "lookups11.check.test  (11 lookups)  v=spf1 include:_spf.google.com include:_netblocks.mimecast.com -all",
            "├── include:_spf.google.com  (4)",
            "│   ├── include:_netblocks.google.com  (1)",
            "│   ├── include:_netblocks2.google.com  (1)",
            "│   └── include:_netblocks3.google.com  (1)",
            "└── include:_netblocks.mimecast.com  (7)",
            "    ├── include:eu._netblocks.mimecast.com  (1)",
            "    ├── include:us._netblocks.mimecast.com  (1)",
            "    ├── include:za._netblocks.mimecast.com  (1)",
            "    ├── include:de._netblocks.mimecast.com  (1)",
            "    ├── include:au._netblocks.mimecast.com  (1)",
            "    └── include:ca._netblocks.mimecast.com  (1)",
            "error SPF506 [too-many-dns-lookups] 11 DNS lookups over the include tree (the limit is 10): "
            "include:_spf.google.com 4, include:_netblocks.mimecast.com 7",
            "dmarc  _dmarc.lookups11.check.test  [no DMARC record]",
            "  warning DMARC115 [no-dmarc-record] lookups11.check.test publishes no DMARC record at "
            "_dmarc.lookups11.check.test",
            "dkim  Google Workspace google._domainkey.lookups11.check.test  [missing]",
            "  warning DMARC118 [dkim-selector-missing] Google Workspace signs with selector google, but "
            "google._domainkey.lookups11.check.test does not resolve; its mail passes DMARC only through SPF alignment",
        ]

    def test_findings_of_an_include_sit_under_it(self, named: NamedServer) -> None:
        lines = check(named, "loop-a.check.test").stdout.splitlines()
        assert lines == [
            "loop-a.check.test  (2 lookups)  v=spf1 include:loop-b.check.test -all",
            "└── include:loop-b.check.test  (2)",
            "    └── include:loop-a.check.test  (1)  [loop: not followed]",
            "          error SPF505 [include-loop] include loop: loop-a.check.test -> loop-b.check.test -> "
            "loop-a.check.test",
            "dmarc  _dmarc.loop-a.check.test  [no DMARC record]",
            "  warning DMARC115 [no-dmarc-record] loop-a.check.test publishes no DMARC record at "
            "_dmarc.loop-a.check.test",
        ]

    def test_address_terms_show_what_they_resolved_to(self, named: NamedServer) -> None:
        lines = check(named, "clean.check.test").stdout.splitlines()
        tree = lines[: next(i for i, line in enumerate(lines) if line.startswith("dmarc  "))]
        assert tree[-2:] == [
            "├── mx  (1)  [1 MX name, 2 addresses]",
            "└── a:out.check.test  (1)  [1 address, void for IPv6]",
        ]

    def test_several_domains_end_with_a_summary(self, named: NamedServer) -> None:
        done = check(named, "clean.check.test", "two.check.test", "pool-user.check.test")
        assert done.stdout.splitlines()[-1] == "3 domains checked: 1 with errors, 1 with warnings only"
        assert done.stderr == ""
