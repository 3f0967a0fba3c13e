"""RFC 7208 section 5: each mechanism, over an in-memory DNS."""

from __future__ import annotations

import pytest
from support.memresolver import MemoryResolver, check

from spfbuild.dns import Outcome


def spf(domain: str, text: str) -> MemoryResolver:
    return MemoryResolver().txt(domain, text)


# ---------------------------------------------------------------- 5.1 all


def test_5_1_all_always_matches_and_later_terms_are_never_tried() -> None:
    zone = spf("example.com", "v=spf1 -all a:later.example.com")
    assert check(zone, "192.0.2.1", "u@example.com").result == "fail"
    assert ("later.example.com", "A") not in zone.calls


def test_5_1_redirect_is_ignored_when_the_record_has_all() -> None:
    zone = spf("example.com", "v=spf1 redirect=other.example.com ~all").txt("other.example.com", "v=spf1 +all")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.lookups) == ("softfail", 0)


@pytest.mark.parametrize("record", ["v=spf1 all.", "v=spf1 all:x.example.com", "v=spf1 all/8"])
def test_5_1_all_takes_no_argument(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


# ---------------------------------------------------------------- 5.2 include


@pytest.mark.parametrize(
    ("inner", "result"),
    [
        ("v=spf1 +all", "fail"),  # pass: match, so -include gives fail
        ("v=spf1 -all", "neutral"),  # fail: no match
        ("v=spf1 ~all", "neutral"),  # softfail: no match
        ("v=spf1 ?all", "neutral"),  # neutral: no match
        ("v=spf1 foo", "permerror"),  # permerror: permerror
        (None, "permerror"),  # none: permerror
    ],
)
def test_5_2_include_result_mapping(inner: str | None, result: str) -> None:
    zone = spf("example.com", "v=spf1 -include:inner.example.com ?all")
    if inner is not None:
        zone.txt("inner.example.com", inner)
    assert check(zone, "192.0.2.1", "u@example.com").result == result


def test_5_2_include_temperror_is_temperror() -> None:
    zone = spf("example.com", "v=spf1 include:inner.example.com +all").fail("inner.example.com", Outcome.SERVFAIL)
    assert check(zone, "192.0.2.1", "u@example.com").result == "temperror"


def test_5_2_include_evaluates_the_target_as_domain_but_keeps_the_sender() -> None:
    zone = spf("example.com", "v=spf1 include:inner.example.com -all")
    zone.txt("inner.example.com", "v=spf1 exists:%{d}.%{o}.%{l}.check.example.net")
    zone.add("inner.example.com.example.com.jane.check.example.net", "A", "127.0.0.2")
    assert check(zone, "192.0.2.1", "jane@example.com").result == "pass"


def test_5_2_matched_path_names_the_include_and_what_matched_inside() -> None:
    zone = spf("example.com", "v=spf1 include:inner.example.com -all").txt("inner.example.com", "v=spf1 ip4:192.0.2.0/24")
    matched = check(zone, "192.0.2.1", "u@example.com").matched
    assert [str(step) for step in matched] == [
        "include:inner.example.com in example.com",
        "ip4:192.0.2.0/24 in inner.example.com",
    ]


@pytest.mark.parametrize("record", ["v=spf1 include", "v=spf1 include:", "v=spf1 include:x.example.com/24"])
def test_5_2_include_needs_a_domain_and_takes_no_cidr(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


# ---------------------------------------------------------------- 5.3 a


def a_zone(record: str) -> MemoryResolver:
    zone = spf("example.com", record)
    return zone.add("h.example.com", "A", "192.0.2.10").add("h.example.com", "AAAA", "2001:db8::10")


def test_5_3_a_queries_a_for_ipv4_senders_and_aaaa_for_ipv6() -> None:
    zone = a_zone("v=spf1 a:h.example.com -all")
    assert check(zone, "192.0.2.10", "u@example.com").result == "pass"
    assert check(zone, "2001:db8::10", "u@example.com").result == "pass"
    assert check(zone, "2001:db8::11", "u@example.com").result == "fail"
    assert {q.rdtype for q in zone.queries if q.name == "h.example.com"} == {"A", "AAAA"}


def test_5_3_dual_cidr_applies_the_prefix_of_the_senders_family() -> None:
    zone = a_zone("v=spf1 a:h.example.com/24//64 -all")
    assert check(zone, "192.0.2.200", "u@example.com").result == "pass"
    assert check(zone, "2001:db8::ffff:1", "u@example.com").result == "pass"
    assert check(zone, "2001:db8:0:1::10", "u@example.com").result == "fail"


def test_5_3_ipv6_cidr_alone_leaves_ipv4_exact() -> None:
    zone = a_zone("v=spf1 a:h.example.com//0 -all")
    assert check(zone, "192.0.2.11", "u@example.com").result == "fail"
    assert check(zone, "2001:db8:ffff::1", "u@example.com").result == "pass"


def test_5_3_an_ipv4_mapped_sender_is_compared_with_a_records() -> None:
    assert check(a_zone("v=spf1 a:h.example.com -all"), "::ffff:192.0.2.10", "u@example.com").result == "pass"


@pytest.mark.parametrize("record", ["v=spf1 a/33", "v=spf1 a//129", "v=spf1 a:", "v=spf1 a:foo", "v=spf1 a:1.2.3.4"])
def test_5_3_bad_a_syntax_is_permerror(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


def test_5_3_a_dns_error_is_temperror() -> None:
    zone = spf("example.com", "v=spf1 a:h.example.com +all").fail("h.example.com", Outcome.TIMEOUT)
    assert check(zone, "192.0.2.1", "u@example.com").result == "temperror"


# ---------------------------------------------------------------- 5.4 mx


def mx_zone() -> MemoryResolver:
    zone = spf("example.com", "v=spf1 mx/24 -all")
    zone.add("example.com", "MX", (10, "mx1.example.com"), (20, "mx2.example.com"))
    return zone.add("mx1.example.com", "A", "192.0.2.1").add("mx2.example.com", "A", "198.51.100.1")


def test_5_4_mx_matches_any_exchange_address_with_the_cidr() -> None:
    zone = mx_zone()
    assert check(zone, "198.51.100.200", "u@example.com").result == "pass"
    assert check(zone, "203.0.113.1", "u@example.com").result == "fail"


def test_5_4_a_null_mx_has_no_addresses() -> None:
    zone = spf("example.com", "v=spf1 mx -all").add("example.com", "MX", (0, "."))
    assert check(zone, "192.0.2.1", "u@example.com").result == "fail"
    assert [rdtype for _, rdtype in zone.calls] == ["TXT", "MX"]


def test_5_4_an_exchange_address_lookup_error_is_temperror() -> None:
    zone = spf("example.com", "v=spf1 mx -all").add("example.com", "MX", (10, "mx.example.com"))
    zone.fail("mx.example.com", Outcome.SERVFAIL)
    assert check(zone, "192.0.2.1", "u@example.com").result == "temperror"


def test_5_4_no_mx_records_is_a_void_lookup_and_no_match() -> None:
    zone = spf("example.com", "v=spf1 mx ?all")
    evaluation = check(zone, "192.0.2.1", "u@example.com")
    assert (evaluation.result, evaluation.void_lookups) == ("neutral", 1)


# ---------------------------------------------------------------- 5.5 ptr


def ptr_zone(record: str = "v=spf1 ptr -all") -> MemoryResolver:
    zone = spf("example.com", record)
    zone.add("1.2.0.192.in-addr.arpa", "PTR", "mail.example.com", "other.example.org")
    zone.add("mail.example.com", "A", "192.0.2.1").add("other.example.org", "A", "192.0.2.1")
    return zone


def test_5_5_ptr_matches_a_validated_name_in_the_domain() -> None:
    assert check(ptr_zone(), "192.0.2.1", "u@example.com").result == "pass"


def test_5_5_ptr_target_may_be_given_and_is_case_insensitive() -> None:
    assert check(ptr_zone("v=spf1 ptr:Example.ORG -all"), "192.0.2.1", "u@example.com").result == "pass"


def test_5_5_an_unvalidated_name_does_not_match() -> None:
    zone = spf("example.com", "v=spf1 ptr -all").add("1.2.0.192.in-addr.arpa", "PTR", "liar.example.com")
    zone.add("liar.example.com", "A", "192.0.2.99")
    assert check(zone, "192.0.2.1", "u@example.com").result == "fail"


def test_5_5_a_ptr_lookup_error_is_no_match_not_temperror() -> None:
    zone = spf("example.com", "v=spf1 ptr -all").fail("1.2.0.192.in-addr.arpa", Outcome.SERVFAIL)
    assert check(zone, "192.0.2.1", "u@example.com").result == "fail"


def test_5_5_a_name_whose_address_lookup_fails_is_skipped() -> None:
    zone = spf("example.com", "v=spf1 ptr -all")
    zone.add("1.2.0.192.in-addr.arpa", "PTR", "broken.example.com", "mail.example.com")
    zone.fail("broken.example.com", Outcome.TIMEOUT).add("mail.example.com", "A", "192.0.2.1")
    assert check(zone, "192.0.2.1", "u@example.com").result == "pass"


def test_5_5_ipv6_uses_ip6_arpa_and_aaaa() -> None:
    zone = spf("example.com", "v=spf1 ptr -all")
    reverse = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
    zone.add(reverse, "PTR", "mail.example.com").add("mail.example.com", "AAAA", "2001:db8::1")
    assert check(zone, "2001:db8::1", "u@example.com").result == "pass"


def test_5_5_ptr_takes_no_cidr() -> None:
    assert check(spf("example.com", "v=spf1 ptr/24"), "192.0.2.1", "u@example.com").result == "permerror"


# ---------------------------------------------------------------- 5.6 ip4 and ip6


@pytest.mark.parametrize(
    ("record", "ip", "result"),
    [
        ("v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.77", "pass"),
        ("v=spf1 ip4:192.0.2.1 -all", "192.0.2.2", "fail"),  # no prefix: /32
        ("v=spf1 ip4:192.0.2.77/24 -all", "192.0.2.1", "pass"),  # host bits are ignored
        ("v=spf1 ip4:0.0.0.0/0 -all", "2001:db8::1", "fail"),  # ip4 never matches an IPv6 sender
        ("v=spf1 ip6:::/0 ?all", "192.0.2.1", "neutral"),  # ip6 never matches an IPv4 sender
        ("v=spf1 ip6:::/0 ?all", "::ffff:192.0.2.1", "neutral"),  # an IPv4-mapped sender is IPv4
        ("v=spf1 ip4:192.0.2.1 -all", "::FFFF:192.0.2.1", "pass"),
        ("v=spf1 ip6:2001:DB8::/32 -all", "2001:db8:ffff::1", "pass"),
    ],
)
def test_5_6_ip4_and_ip6(record: str, ip: str, result: str) -> None:
    assert check(spf("example.com", record), ip, "u@example.com").result == result


@pytest.mark.parametrize(
    "record",
    ["v=spf1 ip4:192.0.2.1/33", "v=spf1 ip4:192.0.2.1/032", "v=spf1 ip4", "v=spf1 ip4:192.0.2", "v=spf1 ip4:192.0.2.1:25",
     "v=spf1 ip4:192.0.2.1//24", "v=spf1 ip6:2001:db8::/129", "v=spf1 ip6:192.0.2.1", "v=spf1 ip6"],
)
def test_5_6_bad_addresses_and_prefixes_are_permerror(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


def test_5_6_ip_mechanisms_need_no_dns() -> None:
    zone = spf("example.com", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all")
    evaluation = check(zone, "198.51.100.1", "u@example.com")
    assert (evaluation.result, evaluation.lookups, len(zone.queries)) == ("fail", 0, 1)


# ---------------------------------------------------------------- 5.7 exists


def test_5_7_exists_matches_any_a_record() -> None:
    zone = spf("example.com", "v=spf1 exists:%{ir}.list.example.net -all").add("1.2.0.192.list.example.net", "A", "127.0.0.2")
    assert check(zone, "192.0.2.1", "u@example.com").result == "pass"
    assert check(zone, "192.0.2.2", "u@example.com").result == "fail"


def test_5_7_exists_asks_for_a_even_for_an_ipv6_sender() -> None:
    zone = spf("example.com", "v=spf1 exists:%{d}.list.example.net -all").add("example.com.list.example.net", "A", "127.0.0.2")
    assert check(zone, "2001:db8::1", "u@example.com").result == "pass"
    assert ("example.com.list.example.net", "AAAA") not in zone.calls


def test_5_7_exists_with_only_aaaa_does_not_match() -> None:
    zone = spf("example.com", "v=spf1 exists:h.example.net -all").add("h.example.net", "AAAA", "2001:db8::1")
    assert check(zone, "2001:db8::1", "u@example.com").result == "fail"


def test_5_7_exists_dns_error_is_temperror() -> None:
    zone = spf("example.com", "v=spf1 exists:h.example.net -all").fail("h.example.net", Outcome.TIMEOUT)
    assert check(zone, "192.0.2.1", "u@example.com").result == "temperror"


@pytest.mark.parametrize("record", ["v=spf1 exists", "v=spf1 exists:", "v=spf1 exists:h.example.net/24"])
def test_5_7_exists_needs_a_domain_and_takes_no_cidr(record: str) -> None:
    assert check(spf("example.com", record), "192.0.2.1", "u@example.com").result == "permerror"


def test_5_an_expanded_name_dns_cannot_carry_does_not_exist() -> None:
    """The suite allows fail or permerror (invalid-domain-long); no query is sent for it."""
    zone = spf("example.com", "v=spf1 a:%{l}.example.com -all")
    evaluation = check(zone, "192.0.2.1", "x" * 64 + "@example.com")
    assert (evaluation.result, evaluation.void_lookups) == ("fail", 1)
    assert [rdtype for _, rdtype in zone.calls] == ["TXT"]
