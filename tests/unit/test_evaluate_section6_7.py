"""RFC 7208 sections 6 (redirect, exp) and 7 (macros), over an in-memory DNS."""

from __future__ import annotations

import pytest
from support.memresolver import MemoryResolver, check

from spfbuild.dns import Outcome


def spf(domain: str, text: str) -> MemoryResolver:
    return MemoryResolver().txt(domain, text)


# ---------------------------------------------------------------- 6.1 redirect


def test_6_1_redirect_gives_the_targets_result_when_nothing_matched() -> None:
    zone = spf("example.com", "v=spf1 ip4:198.51.100.0/24 redirect=_spf.example.net")
    zone.txt("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 -all")
    assert check(zone, "192.0.2.1", "u@example.com").result == "pass"
    assert check(zone, "198.51.100.1", "u@example.com").result == "pass"
    assert check(zone, "203.0.113.1", "u@example.com").result == "fail"


def test_6_1_redirect_counts_as_a_dns_lookup() -> None:
    zone = spf("example.com", "v=spf1 redirect=_spf.example.net").txt("_spf.example.net", "v=spf1 -all")
    assert check(zone, "192.0.2.1", "u@example.com").lookups == 1


def test_6_1_redirect_target_without_a_record_is_permerror() -> None:
    zone = spf("example.com", "v=spf1 redirect=_spf.example.net")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.problem) == (
        "permerror", "redirect=_spf.example.net in example.com: _spf.example.net has no SPF record"
    )


def test_6_1_the_target_is_the_new_domain_for_macros_and_defaults() -> None:
    zone = spf("example.com", "v=spf1 redirect=_spf.example.net")
    zone.txt("_spf.example.net", "v=spf1 a exists:%{d}.ok.example.org -all")
    zone.add("_spf.example.net.ok.example.org", "A", "127.0.0.2")
    assert check(zone, "192.0.2.1", "u@example.com").result == "pass"
    assert ("_spf.example.net", "A") in zone.calls


def test_6_1_redirect_loops_end_in_permerror() -> None:
    zone = spf("example.com", "v=spf1 redirect=example.com")
    assert check(zone, "192.0.2.1", "u@example.com").result == "permerror"


def test_6_1_redirect_target_temperror_is_temperror() -> None:
    zone = spf("example.com", "v=spf1 redirect=_spf.example.net").fail("_spf.example.net", Outcome.TIMEOUT)
    assert check(zone, "192.0.2.1", "u@example.com").result == "temperror"


# ---------------------------------------------------------------- 6.2 exp


def test_6_2_exp_is_fetched_and_expanded_only_for_fail() -> None:
    zone = spf("example.com", "v=spf1 ip4:198.51.100.0/24 -all exp=why.example.com")
    zone.txt("why.example.com", "%{i} is not one of %{d}'s designated mail servers.")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert evaluation.explanation == "192.0.2.1 is not one of example.com's designated mail servers."
    assert check(zone, "198.51.100.1", "u@example.com").explanation is None


def test_6_2_no_exp_modifier_means_no_explanation_never_a_default() -> None:
    assert check(spf("example.com", "v=spf1 -all"), "192.0.2.1", "u@example.com").explanation is None


def test_6_2_softfail_gets_no_explanation() -> None:
    zone = spf("example.com", "v=spf1 ~all exp=why.example.com").txt("why.example.com", "no")
    assert check(zone, "192.0.2.1", "u@example.com").explanation is None
    assert ("why.example.com", "TXT") not in zone.calls


@pytest.mark.parametrize(
    "setup",
    [
        lambda z: z,  # no TXT record
        lambda z: z.txt("why.example.com", "one", "two"),  # more than one
        lambda z: z.fail("why.example.com", Outcome.TIMEOUT),  # DNS error
        lambda z: z.txt("why.example.com", "bad %{x} macro"),  # syntax error
        lambda z: z.txt("why.example.com", "caf\u00e9"),  # not ASCII
    ],
)
def test_6_2_any_problem_with_the_explanation_means_none_and_the_result_stays_fail(setup: object) -> None:
    zone = spf("example.com", "v=spf1 -all exp=why.example.com")
    setup(zone)  # type: ignore[operator]
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.explanation) == ("fail", None)


def test_6_2_a_redirect_uses_the_targets_exp_not_the_originals() -> None:
    zone = spf("example.com", "v=spf1 exp=mine.example.com redirect=_spf.example.net").txt("mine.example.com", "mine")
    zone.txt("_spf.example.net", "v=spf1 -all exp=theirs.example.net").txt("theirs.example.net", "theirs")
    assert check(zone, "192.0.2.1", "u@example.com").explanation == "theirs"


def test_6_2_an_includes_exp_is_not_used() -> None:
    zone = spf("example.com", "v=spf1 -include:inner.example.com -all exp=mine.example.com").txt("mine.example.com", "mine")
    zone.txt("inner.example.com", "v=spf1 +all exp=theirs.example.com").txt("theirs.example.com", "theirs")
    assert check(zone, "192.0.2.1", "u@example.com").explanation == "mine"


def test_6_2_exp_text_may_use_the_exp_only_letters_c_r_t() -> None:
    zone = spf("example.com", "v=spf1 -all exp=why.example.com").txt("why.example.com", "%{c} %{r} %{t}")
    evaluation = check(zone, "2001:DB8::1", "u@example.com", receiver="mx.example.org", timestamp=1700000000)
    assert evaluation.explanation == "2001:db8::1 mx.example.org 1700000000"


def test_6_2_exp_domain_is_a_domain_spec_with_macros() -> None:
    zone = spf("example.com", "v=spf1 -all exp=%{l}.why.example.com").txt("jane.why.example.com", "ask jane")
    assert check(zone, "192.0.2.1", "jane@example.com").explanation == "ask jane"


@pytest.mark.parametrize("record", ["v=spf1 -all exp=", "v=spf1 -all exp=%{c}.example.com", "v=spf1 -all exp=foo"])
def test_6_2_a_bad_exp_domain_spec_is_permerror(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


# ---------------------------------------------------------------- 7.1 formal specification


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1 exists:%{c}.example.com",  # c, r, t only in exp text
        "v=spf1 exists:%{r}.example.com",
        "v=spf1 exists:%{t}.example.com",
        "v=spf1 exists:%{a}.example.com",  # no such letter
        "v=spf1 exists:%(ir).example.com",  # not %{
        "v=spf1 exists:foo%.example.com",  # a lone %
        "v=spf1 exists:%{i0}.example.com",  # digits must be at least 1
        "v=spf1 exists:%{i:}.example.com",  # not a delimiter
    ],
)
def test_7_1_malformed_macros_are_permerror(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


def test_7_1_escapes_percent_space_and_url_space() -> None:
    zone = spf("example.com", "v=spf1 a:macro%%percent%_space%-url.example.com -all")
    zone.add("macro%percent space%20url.example.com", "A", "192.0.2.1")
    assert check(zone, "192.0.2.1", "u@example.com").result == "pass"


# ---------------------------------------------------------------- 7.2 / 7.3 / 7.4 macro expansion


def explain(text: str, ip: str = "192.0.2.3", mailfrom: str = "strong-bad@email.example.com", **kwargs: object) -> str | None:
    domain = mailfrom.partition("@")[2]
    zone = spf(domain, "v=spf1 -all exp=why.example.net").txt("why.example.net", text)
    return check(zone, ip, mailfrom, **kwargs).explanation  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("macro", "expansion"),
    [  # RFC 7208 section 7.4, for strong-bad@email.example.com from 192.0.2.3
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
    ],
)
def test_7_4_the_rfc_examples(macro: str, expansion: str) -> None:
    assert explain(macro) == expansion


def test_7_4_the_rfc_ipv6_example_ignoring_letter_case() -> None:
    """RFC 7208 shows the nibbles in lower case; the openspf suite expects upper case. DNS does not care."""
    got = explain("%{ir}.%{v}._spf.%{d2}", ip="2001:db8::cb01")
    assert got is not None
    assert got.lower() == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"


def test_7_2_h_is_the_helo_and_v_names_the_family() -> None:
    assert explain("%{h} %{v}", helo="mx.example.org") == "mx.example.org in-addr"
    assert explain("%{v}", ip="2001:db8::1") == "ip6"


def test_7_3_upper_case_macros_are_url_escaped() -> None:
    assert explain("%{L}", mailfrom="~jack&jill=up-a_b3.c@example.com") == "~jack%26jill%3Dup-a_b3.c"
    assert explain("%{S}", mailfrom="a b@example.com") == "a%20b%40example.com"


def test_7_3_several_delimiters_split_reverse_then_keep_the_rightmost_parts() -> None:
    # foo bar zip quux -> reversed: quux zip bar foo -> the rightmost two, joined with dots.
    assert explain("%{l2r+-}", mailfrom="foo-bar+zip+quux@example.com") == "bar.foo"


def test_7_3_p_is_a_validated_name_preferring_the_domain_and_its_subdomains() -> None:
    zone = spf("example.com", "v=spf1 -all exp=why.example.com").txt("why.example.com", "%{p}")
    zone.add("1.2.0.192.in-addr.arpa", "PTR", "other.example.org", "mail.example.com", "fake.example.com")
    zone.add("other.example.org", "A", "192.0.2.1").add("mail.example.com", "A", "192.0.2.1")
    zone.add("fake.example.com", "A", "192.0.2.99")
    assert check(zone, "192.0.2.1", "u@example.com").explanation == "mail.example.com"


def test_7_3_p_is_unknown_without_a_validated_name() -> None:
    zone = spf("example.com", "v=spf1 -all exp=why.example.com").txt("why.example.com", "%{p}")
    assert check(zone, "192.0.2.1", "u@example.com").explanation == "unknown"


def test_7_3_p_is_looked_up_only_when_used() -> None:
    zone = spf("example.com", "v=spf1 -all exp=why.example.com").txt("why.example.com", "%{i}")
    check(zone, "192.0.2.1", "u@example.com")
    assert not any(rdtype == "PTR" for _, rdtype in zone.calls)


def test_7_3_p_in_a_domain_spec() -> None:
    zone = spf("example.com", "v=spf1 exists:%{p}.allowed.example.net -all")
    zone.add("1.2.0.192.in-addr.arpa", "PTR", "mail.example.com").add("mail.example.com", "A", "192.0.2.1")
    zone.add("mail.example.com.allowed.example.net", "A", "127.0.0.2")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.lookups) == ("pass", 1)  # the %{p} lookups are not terms


def test_7_3_expanded_names_over_253_characters_lose_labels_on_the_left() -> None:
    local = ".".join(["abcdefghij"] * 30)  # 329 characters
    zone = spf("example.com", "v=spf1 exists:%{l}.example.com -all")
    kept = ".".join(["abcdefghij"] * 22) + ".example.com"  # the longest tail that fits
    assert len(kept) <= 253 < len(kept) + 11
    zone.add(kept, "A", "127.0.0.2")
    assert check(zone, "192.0.2.1", f"{local}@example.com").result == "pass"


def test_7_3_a_trailing_dot_in_an_expanded_name_is_dropped() -> None:
    zone = spf("example.com", "v=spf1 redirect=%{d}.spf.example.net.").txt("example.com.spf.example.net", "v=spf1 +all")
    assert check(zone, "192.0.2.1", "u@example.com").result == "pass"


def test_7_3_ipv6_i_is_dotted_nibbles() -> None:
    zone = spf("example.com", "v=spf1 exists:%{ir}.%{v}.list.example.net -all")
    name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.list.example.net"
    zone.add(name, "A", "127.0.0.2")
    assert check(zone, "2001:db8::1", "u@example.com").result == "pass"
