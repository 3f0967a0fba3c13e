"""The record parser follows the RFC 7208 ABNF exactly and never raises."""

from __future__ import annotations

import ipaddress

import pytest

from spfbuild.record import Mechanism, Modifier, Qualifier, Record
from spfbuild.recordparse import is_spf_record, parse


def codes(text: str) -> list[str]:
    return [d.code for d in parse(text).diagnostics]


class TestVersion:
    @pytest.mark.parametrize("text", ["v=spf1", "v=spf1 -all", "V=SPF1 -all", "v=spf1   -all  "])
    def test_version_is_case_insensitive_and_ends_with_space_or_end(self, text: str) -> None:
        assert is_spf_record(text)
        assert parse(text).ok

    @pytest.mark.parametrize("text", ["v=spf1-all", "v=spf10 -all", "v=spf2 -all", "spf1 -all", "v=spf -all"])
    def test_misspelled_version_is_an_error(self, text: str) -> None:
        assert codes(text) == ["SPF101"]

    def test_other_text_is_missing_version(self) -> None:
        assert codes("google-site-verification=abc") == ["SPF100"]


class TestMechanisms:
    def test_all_eight_mechanisms_and_qualifiers(self) -> None:
        result = parse(
            "v=spf1 +all -include:_spf.example.com ~a ?mx ptr ip4:192.0.2.1 ip6:2001:db8::1 exists:%{i}.x.example"
        )
        assert result.ok
        kinds = [(m.qualifier, m.kind) for m in result.record.mechanisms]
        assert kinds == [
            (Qualifier.PASS, "all"),
            (Qualifier.FAIL, "include"),
            (Qualifier.SOFTFAIL, "a"),
            (Qualifier.NEUTRAL, "mx"),
            (Qualifier.PASS, "ptr"),
            (Qualifier.PASS, "ip4"),
            (Qualifier.PASS, "ip6"),
            (Qualifier.PASS, "exists"),
        ]

    def test_mechanism_names_are_case_insensitive(self) -> None:
        assert parse("v=spf1 INCLUDE:_spf.example.com IP4:192.0.2.1 -ALL").ok

    def test_dual_cidr_of_a_and_mx(self) -> None:
        mech = parse("v=spf1 a:mail.example.com/24//64").record.terms[0]
        assert mech == Mechanism("a", domain="mail.example.com", prefix4=24, prefix6=64)
        assert parse("v=spf1 mx//64").record.terms[0] == Mechanism("mx", prefix6=64)
        assert parse("v=spf1 a/0").record.terms[0] == Mechanism("a", prefix4=0)

    def test_ip_networks(self) -> None:
        mech = parse("v=spf1 ip4:192.0.2.0/24").record.terms[0]
        assert isinstance(mech, Mechanism)
        assert mech.network == ipaddress.ip_network("192.0.2.0/24")
        six = parse("v=spf1 ip6:2001:DB8::/32").record.terms[0]
        assert isinstance(six, Mechanism)
        assert str(six) == "ip6:2001:db8::/32"

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("v=spf1 ip4:123.456.0.12 -all", "SPF107"),
            ("v=spf1 ip4:1.2.3.4/33 -all", "SPF109"),
            ("v=spf1 ip4:1.2.3.4/024", "SPF109"),
            ("v=spf1 ip4:01.2.3.4", "SPF107"),
            ("v=spf1 ip4:1.2.3", "SPF107"),
            ("v=spf1 ip4:", "SPF107"),
            ("v=spf1 ip6:2001:db8::/129", "SPF109"),
            ("v=spf1 ip6:2001:db8:::1", "SPF108"),
            ("v=spf1 ip6:fe80::1%eth0", "SPF108"),
            ("v=spf1 ip6:192.0.2.1", "SPF108"),
            ("v=spf1 a/33", "SPF109"),
            ("v=spf1 mx//129", "SPF109"),
            ("v=spf1 include", "SPF104"),
            ("v=spf1 include:", "SPF104"),
            ("v=spf1 exists", "SPF104"),
            ("v=spf1 all:example.com", "SPF114"),
            ("v=spf1 include/24", "SPF104"),
            ("v=spf1 ptr/24", "SPF114"),
            ("v=spf1 a-example.com", "SPF102"),
            ("v=spf1 foo:example.com", "SPF102"),
            ("v=spf1 ++all", "SPF103"),
            ("v=spf1 !all", "SPF103"),
            ("v=spf1 include:localhost", "SPF105"),
            ("v=spf1 a:1.2.3.4", "SPF105"),
            ("v=spf1 a:example.-com", "SPF105"),
            ("v=spf1 include:example.com:25", "SPF105"),
            ("v=spf1 exists:%{x}.example.com", "SPF106"),
            ("v=spf1 exists:%{d0}.example.com", "SPF106"),
            ("v=spf1 exists:%{c}.example.com", "SPF106"),
            ("v=spf1 exists:%{d1:}.example.com", "SPF106"),
            ("v=spf1 exists:%x.example.com", "SPF106"),
            ("v=spf1 exists:%{d.example.com", "SPF106"),
            ("v=spf1 redirect=a.example.com redirect=b.example.com", "SPF110"),
            ("v=spf1 exp=a.example.com exp=b.example.com", "SPF110"),
            ("v=spf1 redirect=", "SPF104"),
            ("v=spf1 1foo=bar", "SPF111"),
            ("v=spf1 foo=%q", "SPF106"),
            ("v=spf1 mx\t-all", "SPF113"),
            ("v=spf1\t-all", "SPF101"),
            ("v=spf1 include:_netblocks.mimecast.com –all", "SPF112"),
        ],
    )
    def test_each_syntax_error_has_its_code(self, text: str, code: str) -> None:
        result = parse(text)
        assert code in [d.code for d in result.diagnostics]
        assert not result.ok

    def test_columns_point_at_the_problem(self) -> None:
        (diag,) = parse("v=spf1 ip4:123.456.0.12 -all").diagnostics
        assert diag.column == len("v=spf1 ip4:") + 1

    def test_trailing_dot_and_macros_in_domain_specs(self) -> None:
        assert parse("v=spf1 include:_spf.example.com. exists:%{ir}.%{v}._spf.%{d2} a:%{d}").ok
        assert parse("v=spf1 exists:%{l1r-}.%{o}.example.com a:%%.%_.%-.example.com").ok

    def test_uppercase_macro_letters_are_allowed(self) -> None:
        assert parse("v=spf1 exists:%{I}.%{S}.example.com").ok


class TestModifiers:
    def test_redirect_exp_and_unknown_modifiers_are_kept(self) -> None:
        record = parse("v=spf1 redirect=_spf.example.com exp=exp.%{d} moo.cow-far_out=man:dog/cat").record
        assert record.redirect == "_spf.example.com"
        assert record.exp == "exp.%{d}"
        assert Modifier("moo.cow-far_out", "man:dog/cat") in record.terms

    def test_unknown_modifier_may_be_empty_and_repeat(self) -> None:
        assert parse("v=spf1 foo= foo=bar -all").ok

    def test_modifier_names_are_case_insensitive(self) -> None:
        assert parse("v=spf1 REDIRECT=_spf.example.com").record.redirect == "_spf.example.com"


class TestLookalikes:
    def test_en_dash_all_is_reported_with_the_corrected_record(self) -> None:
        result = parse("v=spf1 include:_netblocks.mimecast.com –all")
        (diag,) = result.diagnostics
        assert diag.code == "SPF112"
        assert diag.fix == "v=spf1 include:_netblocks.mimecast.com -all"
        assert diag.column == 40

    @pytest.mark.parametrize("char", ["\u2014", "\u2212", "\u2010"])
    def test_other_dashes(self, char: str) -> None:
        assert codes(f"v=spf1 mx {char}all") == ["SPF112"]

    def test_non_breaking_and_zero_width_spaces(self) -> None:
        result = parse("v=spf1\u00a0mx\u200b -all")
        assert [d.code for d in result.diagnostics] == ["SPF112", "SPF112"]
        assert result.diagnostics[0].fix == "v=spf1 mx -all"
        # Later findings still point into the original text.
        bad = parse("v=spf1\u200b ip4:1.2.3.4/33")
        assert [d.column for d in bad.diagnostics] == [7, 20]


class TestNeverRaises:
    @pytest.mark.parametrize(
        "text", ["", " ", "v=spf1 %", "v=spf1 :", "v=spf1 =", "v=spf1 -", "v=spf1 a:%{", "\x00", "v=spf1 ip4:/"]
    )
    def test_junk(self, text: str) -> None:
        parse(text)


def test_record_properties() -> None:
    record = parse("v=spf1 a mx include:x.example.com ip4:192.0.2.1 redirect=y.example.com").record
    assert record.dns_lookups == 4
    assert isinstance(record, Record)
    assert str(record) == "v=spf1 a mx include:x.example.com ip4:192.0.2.1 redirect=y.example.com"
