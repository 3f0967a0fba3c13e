"""Every offline lint rule fires where it should and stays quiet where it should not."""

from __future__ import annotations

import pytest

from spfbuild.catalogue import load_catalogue
from spfbuild.compose import catalogue_lookups
from spfbuild.diagnostics import Severity
from spfbuild.linting import lint_record
from spfbuild.rules.registry import RULES

CATALOGUE = load_catalogue()


def lookups_of(domain: str) -> int | None:  # as `spfbuild lint` counts includes
    return catalogue_lookups(domain, CATALOGUE)

LONG = "v=spf1 " + " ".join(f"ip4:198.18.{i}.0/24" for i in range(20)) + " -all"
HUGE = "v=spf1 " + " ".join(f"ip4:198.18.{i}.0/24" for i in range(30)) + " -all"

# (rule code, a record where it fires, a similar record where it does not)
CASES = [
    ("SPF100", "hello world", "v=spf1 -all"),
    ("SPF101", "v=spf2 mx -all", "v=spf1 mx -all"),
    ("SPF102", "v=spf1 mx foo -all", "v=spf1 mx -all"),
    ("SPF103", "v=spf1 mx ~-all", "v=spf1 mx ~all"),
    ("SPF104", "v=spf1 include: -all", "v=spf1 include:_spf.example.com -all"),
    ("SPF105", "v=spf1 include:example -all", "v=spf1 include:example.com -all"),
    ("SPF106", "v=spf1 exists:%{z}.example.com -all", "v=spf1 exists:%{i}.example.com -all"),
    ("SPF107", "v=spf1 ip4:123.456.0.12 -all", "v=spf1 ip4:123.45.0.12 -all"),
    ("SPF108", "v=spf1 ip6:2001:db8::g -all", "v=spf1 ip6:2001:db8::f -all"),
    ("SPF109", "v=spf1 ip4:1.2.3.4/33 -all", "v=spf1 ip4:1.2.3.4/32 -all"),
    ("SPF110", "v=spf1 redirect=a.example.com redirect=b.example.com", "v=spf1 redirect=a.example.com"),
    ("SPF111", "v=spf1 -all 9x=1", "v=spf1 -all x9=1"),
    ("SPF112", "v=spf1 mx –all", "v=spf1 mx -all"),
    ("SPF113", "v=spf1 mx\t-all", "v=spf1 mx -all"),
    ("SPF114", "v=spf1 mx all:x -all", "v=spf1 mx -all"),
    ("SPF200", "v=spf1 mx +all", "v=spf1 mx -all"),
    ("SPF201", "v=spf1 mx ?all", "v=spf1 mx ~all"),
    ("SPF202", "v=spf1 mx", "v=spf1 mx redirect=_spf.example.com"),
    ("SPF203", "v=spf1 -all mx", "v=spf1 mx -all"),
    ("SPF204", "v=spf1 mx -all redirect=_spf.example.com", "v=spf1 mx redirect=_spf.example.com"),
    ("SPF205", "v=spf1 ptr -all", "v=spf1 a -all"),
    ("SPF206", "v=spf1 mx mx -all", "v=spf1 mx a -all"),
    ("SPF207", "v=spf1 mx ~all exp=explain.example.com", "v=spf1 mx -all exp=explain.example.com"),
    ("SPF208", "v=spf1 mx -all foo=bar", "v=spf1 mx -all"),
    ("SPF300", "v=spf1 ip4:198.18.0.0/16 ip4:198.18.5.0/24 -all", "v=spf1 ip4:198.18.0.0/24 ip4:198.18.5.0/24 -all"),
    ("SPF301", "v=spf1 ip4:8.0.0.0/8 ip6:2600::/16 -all", "v=spf1 ip4:8.8.0.0/16 ip6:2600::/32 -all"),
    ("SPF302", "v=spf1 ip4:10.1.2.3 -all", "v=spf1 ip4:8.8.8.8 -all"),
    ("SPF303", "v=spf1 ip4:8.8.8.8/24 -all", "v=spf1 ip4:8.8.8.0/24 -all"),
    ("SPF400", "v=spf1 " + " ".join(f"include:s{i}.example.com" for i in range(11)) + " -all",
     "v=spf1 " + " ".join(f"include:s{i}.example.com" for i in range(10)) + " -all"),
    ("SPF401", LONG, "v=spf1 mx -all"),
    ("SPF403", "v=spf1 include:_spf.google.com include:_netblocks.mimecast.com -all",
     "v=spf1 include:_spf.google.com include:eu._netblocks.mimecast.com -all"),
    ("SPF402", HUGE, LONG),
]


@pytest.mark.parametrize(("code", "fires", "quiet"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_and_stays_quiet(code: str, fires: str, quiet: str) -> None:
    assert code in [d.code for d in lint_record(fires, lookups_of).diagnostics]
    assert code not in [d.code for d in lint_record(quiet, lookups_of).diagnostics]


def test_every_offline_rule_has_a_case() -> None:
    offline = {r.code for r in RULES if not r.code.startswith(("SPF5", "DMARC"))}  # DMARC: test_dmarc_rules
    assert offline <= {c[0] for c in CASES}


class TestVendorExamples:
    def test_mimecast_en_dash_is_an_error_with_fix(self) -> None:
        result = lint_record("v=spf1 include:_netblocks.mimecast.com –all")
        assert not result.ok
        (diag,) = [d for d in result.diagnostics if d.code == "SPF112"]
        assert diag.fix == "v=spf1 include:_netblocks.mimecast.com -all"

    def test_invalid_address(self) -> None:
        result = lint_record("v=spf1 ip4:123.456.0.12 -all")
        assert [d.code for d in result.diagnostics if d.severity is Severity.ERROR] == ["SPF107"]

    def test_office365_mailchimp_and_own_ip_is_clean(self) -> None:
        result = lint_record(
            "v=spf1 include:spf.protection.outlook.com include:servers.mcsv.net ip4:178.251.192.3 -all"
        )
        assert result.diagnostics == ()

    def test_mimecast_documentation_example_has_no_errors(self) -> None:
        result = lint_record("v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.123 a include:_netblocks.mimecast.com -all")
        assert result.ok
        # The documentation ranges are only warned about.
        assert {d.code for d in result.diagnostics} == {"SPF302"}


class TestInputForms:
    def test_quoted_strings_are_joined_without_spaces(self) -> None:
        result = lint_record('"v=spf1 ip4:192.0.2.1 " "include:_spf.example.com -all"')
        assert result.text == "v=spf1 ip4:192.0.2.1 include:_spf.example.com -all"
        assert result.strings == ("v=spf1 ip4:192.0.2.1 ", "include:_spf.example.com -all")

    def test_a_quoted_string_over_255_bytes_is_an_error(self) -> None:
        result = lint_record(f'"{LONG}"')
        (diag,) = [d for d in result.diagnostics if d.code == "SPF401"]
        assert diag.severity is Severity.ERROR

    def test_split_strings_under_255_bytes_are_fine(self) -> None:
        half = len(LONG) // 2
        result = lint_record(f'"{LONG[:half]}" "{LONG[half:]}"')
        assert "SPF401" not in [d.code for d in result.diagnostics]

    def test_curly_quotes_around_the_record(self) -> None:
        result = lint_record("\u201cv=spf1 mx -all\u201d")
        assert result.text == "v=spf1 mx -all"
        assert [d.code for d in result.diagnostics] == ["SPF112", "SPF112"]
