"""RFC 7208 section 4: the check_host() function, section by section, over an in-memory DNS."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from support.memresolver import MemoryResolver, check

from spfbuild.dns import Outcome
from spfbuild.evaluation import RESULTS, check_host, sender_address, spf_identity


def spf(domain: str, text: str) -> MemoryResolver:
    return MemoryResolver().txt(domain, text)


# ---------------------------------------------------------------- 4.1 arguments


def test_4_1_mail_from_gives_sender_and_domain() -> None:
    assert spf_identity("jane@example.com", "mx.example.net") == ("jane@example.com", "example.com")


def test_4_1_empty_mail_from_checks_postmaster_at_helo() -> None:
    """RFC 7208 2.4: a null reverse-path uses the HELO identity."""
    assert spf_identity("", "mx.example.net") == ("postmaster@mx.example.net", "mx.example.net")


def test_4_1_mail_from_without_at_is_a_domain_with_postmaster() -> None:
    assert spf_identity("example.com") == ("postmaster@example.com", "example.com")


def test_4_1_local_part_is_the_text_before_the_first_at_verbatim() -> None:
    assert spf_identity("Jane.Doe+tag@example.com") == ("Jane.Doe+tag@example.com", "example.com")
    assert spf_identity("a@b@example.com") == ("a@b@example.com", "b@example.com")


def test_4_1_ip_may_be_a_string_in_any_case_or_an_address_object() -> None:
    assert sender_address("2001:DB8::1") == ipaddress.IPv6Address("2001:db8::1")
    assert sender_address(ipaddress.IPv4Address("192.0.2.1")) == ipaddress.IPv4Address("192.0.2.1")
    with pytest.raises(ValueError):
        sender_address("192.0.2.256")


def test_4_1_lookup_limit_is_global_across_recursive_evaluations() -> None:
    zone = spf("example.com", "v=spf1 include:a.example.com include:b.example.com -all")
    zone.txt("a.example.com", "v=spf1 a:x1.example.com a:x2.example.com a:x3.example.com a:x4.example.com")
    zone.txt("b.example.com", "v=spf1 a:x5.example.com a:x6.example.com a:x7.example.com a:x8.example.com ?all")
    for i in range(1, 9):
        zone.add(f"x{i}.example.com", "A", "198.51.100.1")
    assert check(zone, "192.0.2.1", "u@example.com").lookups == 10  # 2 includes + 8 a


# ---------------------------------------------------------------- 4.2 results


@pytest.mark.parametrize(
    ("record", "result"),
    [
        ("v=spf1 +all", "pass"),
        ("v=spf1 -all", "fail"),
        ("v=spf1 ~all", "softfail"),
        ("v=spf1 ?all", "neutral"),
        ("v=spf1 include:missing.example.com", "permerror"),
        ("v=spf1 include:slow.example.com", "temperror"),
    ],
)
def test_4_2_each_result(record: str, result: str) -> None:
    zone = spf("example.com", record).fail("slow.example.com", Outcome.TIMEOUT)
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert evaluation.result == result
    assert evaluation.result in RESULTS


def test_4_2_errors_carry_the_problem() -> None:
    evaluation = check(spf("example.com", "v=spf1 include:missing.example.com"), "192.0.2.1", "u@example.com")
    assert evaluation.problem == "include:missing.example.com in example.com: missing.example.com has no SPF record"


# ---------------------------------------------------------------- 4.3 initial processing


@pytest.mark.parametrize(
    "mailfrom",
    [
        "u@" + "a" * 64 + ".example.com",  # label over 63
        "u@a..example.com",  # empty label
        "u@localhost",  # not multi-label
        "u@[192.0.2.1]",  # a domain literal
        "u@example.123",  # all-numeric top label
        "u@" + "abcdefghi." * 26 + "com",  # over 253 characters
    ],
)
def test_4_3_a_malformed_domain_is_none_without_any_dns_query(mailfrom: str) -> None:
    zone = MemoryResolver()
    evaluation = check(zone, "192.0.2.1", mailfrom)
    assert evaluation.result == "none"
    assert zone.queries == []


def test_4_3_a_domain_with_a_trailing_dot_is_fine() -> None:
    assert check(spf("example.com", "v=spf1 +all"), "192.0.2.1", "u@example.com.").result == "pass"


def test_4_3_nxdomain_is_none() -> None:
    assert check(MemoryResolver(), "192.0.2.1", "u@example.com").result == "none"


def test_4_3_empty_local_part_becomes_postmaster() -> None:
    zone = spf("example.com", "v=spf1 -all exp=why.example.com").txt("why.example.com", "%{l} %{s}")
    assert check(zone, "192.0.2.1", "@example.com").explanation == "postmaster postmaster@example.com"


# ---------------------------------------------------------------- 4.4 record lookup


def test_4_4_only_txt_is_asked_and_type_spf_records_are_ignored() -> None:
    zone = MemoryResolver().add("example.com", "SPF", "v=spf1 +all")
    assert check(zone, "192.0.2.1", "u@example.com").result == "none"
    assert [rdtype for _, rdtype in zone.calls] == ["TXT"]


@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.REFUSED, Outcome.ERROR])
def test_4_4_a_dns_error_is_temperror(outcome: Outcome) -> None:
    zone = MemoryResolver().fail("example.com", outcome)
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert evaluation.result == "temperror"
    assert evaluation.problem is not None and "example.com TXT" in evaluation.problem


def test_4_4_nodata_is_none() -> None:
    zone = MemoryResolver().add("example.com", "A", "192.0.2.1")
    assert check(zone, "192.0.2.1", "u@example.com").result == "none"


# ---------------------------------------------------------------- 4.5 selecting records


def test_4_5_other_txt_records_are_ignored() -> None:
    zone = MemoryResolver().txt("example.com", "google-site-verification=abc", "v=spf1 -all", "v=spf10 +all")
    assert check(zone, "192.0.2.1", "u@example.com").result == "fail"


def test_4_5_the_version_is_case_insensitive_and_must_end_in_a_space() -> None:
    assert check(spf("example.com", "V=SpF1 ~all"), "192.0.2.1", "u@example.com").result == "softfail"
    assert check(spf("example.com", "v=spf1+all"), "192.0.2.1", "u@example.com").result == "none"


def test_4_5_a_bare_version_is_a_record() -> None:
    assert check(spf("example.com", "v=spf1"), "192.0.2.1", "u@example.com").result == "neutral"


def test_4_5_two_records_is_permerror_even_when_identical() -> None:
    zone = MemoryResolver().txt("example.com", "v=spf1 -all", "v=spf1 -all")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.problem) == ("permerror", "example.com has 2 SPF records; there must be one")


# ---------------------------------------------------------------- 4.6 record evaluation


def test_4_6_a_syntax_error_anywhere_is_permerror_before_anything_matches() -> None:
    zone = spf("example.com", "v=spf1 +all moo")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert evaluation.result == "permerror"
    assert evaluation.problem is not None and "unknown mechanism" in evaluation.problem


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1 ip4:192.0.2.1 -all\u00a0",  # a non-breaking space
        "v=spf1 a:ctrl.example.com\rptr -all",  # a control character
        "v=spf1 \u2013all",  # an en dash
    ],
)
def test_4_6_1_terms_are_separated_by_spaces_and_are_ascii(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


def test_4_6_1_several_spaces_separate_terms_too() -> None:
    assert check(spf("example.com", "v=spf1   ip4:192.0.2.1    -all  "), "192.0.2.1", "u@example.com").result == "pass"


def test_4_6_2_mechanisms_are_tried_left_to_right_and_the_first_match_decides() -> None:
    zone = spf("example.com", "v=spf1 ~ip4:192.0.2.0/24 +ip4:192.0.2.1 a:never.example.com -all")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert evaluation.result == "softfail"
    assert ("never.example.com", "A") not in zone.calls


@pytest.mark.parametrize(("qualifier", "result"), [("", "pass"), ("+", "pass"), ("-", "fail"), ("~", "softfail"),
                                                   ("?", "neutral")])
def test_4_6_2_qualifiers(qualifier: str, result: str) -> None:
    assert check(spf("example.com", f"v=spf1 {qualifier}all"), "192.0.2.1", "u@example.com").result == result


def test_4_6_3_modifiers_may_appear_anywhere_and_unknown_ones_are_ignored() -> None:
    zone = spf("example.com", "v=spf1 redirect=other.example.com foo=bar ip4:198.51.100.0/24")
    zone.txt("other.example.com", "v=spf1 -all")
    assert check(zone, "198.51.100.1", "u@example.com").result == "pass"
    assert check(zone, "192.0.2.1", "u@example.com").result == "fail"


@pytest.mark.parametrize("record", ["v=spf1 redirect=a.example.com redirect=b.example.com",
                                    "v=spf1 -all exp=a.example.com exp=b.example.com"])
def test_4_6_3_redirect_and_exp_at_most_once(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


# ---------------------------------------------------------------- 4.6.4 DNS lookup limits


def a_terms(count: int) -> str:
    return " ".join(f"a:h{i}.example.com" for i in range(count))


def limit_zone(record: str) -> MemoryResolver:
    zone = spf("example.com", record)
    for i in range(20):
        zone.add(f"h{i}.example.com", "A", "198.51.100.1")
    return zone


def test_4_6_4_ten_dns_terms_are_allowed() -> None:
    evaluation = check(limit_zone(f"v=spf1 {a_terms(10)} +all"), "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.lookups) == ("pass", 10)


def test_4_6_4_the_eleventh_dns_term_is_permerror_before_it_is_queried() -> None:
    zone = limit_zone(f"v=spf1 {a_terms(11)} +all")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert evaluation.result == "permerror"
    assert ("h10.example.com", "A") not in zone.calls


def test_4_6_4_terms_without_dns_do_not_count() -> None:
    record = f"v=spf1 {a_terms(10)} ip4:198.51.100.0/24 ip6:2001:db8::/32 -all"
    assert check(limit_zone(record), "192.0.2.1", "u@example.com").lookups == 10


def test_4_6_4_include_and_redirect_count() -> None:
    zone = limit_zone(f"v=spf1 {a_terms(8)} include:i.example.com redirect=r.example.com")
    zone.txt("i.example.com", "v=spf1 -all").txt("r.example.com", "v=spf1 a:h9.example.com")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.lookups) == ("permerror", 11)


def test_4_6_4_an_include_loop_ends_in_permerror() -> None:
    assert check(spf("example.com", "v=spf1 include:example.com"), "192.0.2.1", "u@example.com").result == "permerror"


def test_4_6_4_lifting_the_limits_is_possible_for_tools() -> None:
    evaluation = check(limit_zone(f"v=spf1 {a_terms(15)} +all"), "192.0.2.1", "u@example.com", max_lookups=100)
    assert (evaluation.result, evaluation.lookups) == ("pass", 15)


def test_4_6_4_mx_with_ten_names_is_fine_eleven_is_permerror() -> None:
    for count, result in ((10, "pass"), (11, "permerror")):
        zone = spf("example.com", "v=spf1 mx -all")
        for i in range(count):
            zone.add("example.com", "MX", (i, f"mx{i}.example.com")).add(f"mx{i}.example.com", "A", f"192.0.2.{i}")
        assert check(zone, "192.0.2.9", "u@example.com").result == result


def test_4_6_4_mx_address_lookups_do_not_count_towards_ten() -> None:
    zone = spf("example.com", "v=spf1 mx -all")
    for i in range(10):
        zone.add("example.com", "MX", (i, f"mx{i}.example.com")).add(f"mx{i}.example.com", "A", f"192.0.2.{i}")
    assert check(zone, "192.0.2.9", "u@example.com").lookups == 1


def test_4_6_4_only_the_first_ten_ptr_names_are_considered() -> None:
    zone = spf("example.com", "v=spf1 ptr -all")
    for i in range(11):
        zone.add("1.2.0.192.in-addr.arpa", "PTR", f"h{i}.example.com").add(f"h{i}.example.com", "A", "192.0.2.99")
    zone.add("h10.example.com", "A", "192.0.2.1")  # the eleventh name would validate
    assert check(zone, "192.0.2.1", "u@example.com").result == "fail"


def test_4_6_4_two_void_lookups_are_allowed() -> None:
    zone = spf("example.com", "v=spf1 a:nx.example.com mx:nodata.example.com +all").touch("nodata.example.com")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.void_lookups) == ("pass", 2)


def test_4_6_4_a_third_void_lookup_is_permerror() -> None:
    zone = spf("example.com", "v=spf1 a:nx1.example.com exists:nx2.example.com a:nx3.example.com +all")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.void_lookups) == ("permerror", 3)


def test_4_6_4_the_exp_lookup_is_not_counted() -> None:
    zone = limit_zone(f"v=spf1 {a_terms(10)} -all exp=why.example.com").txt("why.example.com", "no")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.explanation, evaluation.lookups) == ("fail", "no", 10)


# ---------------------------------------------------------------- 4.7 default result


def test_4_7_no_match_and_no_redirect_is_neutral() -> None:
    evaluation = check(spf("example.com", "v=spf1 ip4:198.51.100.0/24"), "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.matched) == ("neutral", ())


# ---------------------------------------------------------------- 4.8 domain specification


def test_4_8_a_mechanism_without_a_domain_uses_the_current_domain() -> None:
    zone = spf("example.com", "v=spf1 include:inner.example.com -all").txt("inner.example.com", "v=spf1 a -all")
    zone.add("inner.example.com", "A", "192.0.2.1").add("example.com", "A", "198.51.100.1")
    assert check(zone, "192.0.2.1", "u@example.com").result == "pass"
    assert ("example.com", "A") not in zone.calls


def test_4_8_names_are_case_insensitive() -> None:
    zone = spf("example.com", "v=spf1 A:Mail.EXAMPLE.com -ALL").add("mail.example.com", "A", "192.0.2.1")
    assert check(zone, "192.0.2.1", "u@EXAMPLE.COM").result == "pass"


def test_4_the_trace_shows_records_terms_and_the_match() -> None:
    zone = spf("example.com", "v=spf1 ip4:198.51.100.0/24 a -all").add("example.com", "A", "192.0.2.1")
    seen: list[str] = []
    evaluation = asyncio.run(
        check_host("192.0.2.1", "example.com", "u@example.com", zone, trace=lambda e: seen.append(e.kind))
    )
    assert [e.kind for e in evaluation.trace] == seen
    assert seen == ["record", "term", "term", "dns", "match", "result"]
    assert str(evaluation.trace[0]) == "[example.com] record: v=spf1 ip4:198.51.100.0/24 a -all"


def test_an_include_loop_with_the_limits_lifted_ends_in_permerror_not_a_crash() -> None:
    resolver = MemoryResolver()
    resolver.txt("loop.test", "v=spf1 ip4:192.0.2.1 include:loop.test -all")
    looping = asyncio.run(check_host("192.0.2.9", "loop.test", "postmaster@loop.test", resolver,
                                     max_lookups=10_000, max_void_lookups=10_000))
    assert looping.result == "permerror" and "nest over" in (looping.problem or "")
    matched = asyncio.run(check_host("192.0.2.1", "loop.test", "postmaster@loop.test", resolver, max_lookups=10_000))
    assert matched.result == "pass"
