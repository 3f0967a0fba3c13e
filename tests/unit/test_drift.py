"""`spfbuild diff`'s judgement, offline: records compared by every address's result (exclusions,
qualifiers, both families), the deciding terms named, ranges written as people write them, the
main record's terms that differ, and DKIM/DMARC records compared by meaning."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from support.memresolver import MemoryResolver

from spfbuild.catalogue import load_catalogue
from spfbuild.cli.diff import exit_status
from spfbuild.companions import Companion
from spfbuild.config import parse_config
from spfbuild.dns import Answer, Outcome
from spfbuild.drift import DomainDrift, diff_all
from spfbuild.drift.companions import compare_one, dkim_key, dmarc_meaning
from spfbuild.drift.spf import describe_range, record_diff
from spfbuild.intervals import V6_BASE

CATALOGUE = load_catalogue()


def drifts(config: str, zone: dict[str, list[tuple[str, str]]]) -> list[DomainDrift]:
    cfg = parse_config(config, "senders.yaml", CATALOGUE)
    return asyncio.run(diff_all(cfg.domains, CATALOGUE, MemoryResolver(zone)))


PROVIDER = {"spf.provider.test": [("TXT", "v=spf1 -ip4:10.0.0.5 ip4:10.0.0.0/24 ip6:2001:db8::/48 ~all")]}
CONFIG = "domain: a.test\npolicy: fail\nsenders:\n  - include: spf.provider.test\n"


def test_a_flattening_that_keeps_every_result_is_in_sync() -> None:
    published = "v=spf1 ip4:10.0.0.0/30 ip4:10.0.0.4 ip4:10.0.0.6/31 ip4:10.0.0.8/29 ip4:10.0.0.16/28 " \
                "ip4:10.0.0.32/27 ip4:10.0.0.64/26 ip4:10.0.0.128/25 ip6:2001:db8::/48 -all"
    (found,) = drifts(CONFIG, {**PROVIDER, "a.test": [("TXT", published)]})
    assert (found.status, found.differences, found.error) == ("in sync", (), None)
    assert found.declared == "v=spf1 include:spf.provider.test -all" and found.published == published


def test_a_lost_exclusion_is_the_one_address_that_differs() -> None:
    (found,) = drifts(CONFIG, {**PROVIDER, "a.test": [("TXT", "v=spf1 ip4:10.0.0.0/24 ip6:2001:db8::/48 -all")]})
    assert found.status == "differs"
    assert [d.to_dict() for d in found.differences] == [{
        "range": "10.0.0.5/32", "declared": "fail", "published": "pass",
        "declared_term": "-all in a.test", "published_term": "ip4:10.0.0.0/24 in a.test",
    }]
    assert found.record_diff == ("- include:spf.provider.test", "+ ip4:10.0.0.0/24", "+ ip6:2001:db8::/48")


def test_another_default_differs_in_both_families_and_ranges_never_cross_them() -> None:
    (found,) = drifts(CONFIG, {**PROVIDER, "a.test": [("TXT", "v=spf1 include:spf.provider.test ~all")]})
    assert [(d.range, d.declared, d.published, d.published_term) for d in found.differences] == [
        ("0.0.0.0-9.255.255.255", "fail", "softfail", "~all in a.test"),
        ("10.0.0.5/32", "fail", "softfail", "~all in a.test"),
        ("10.0.1.0-255.255.255.255", "fail", "softfail", "~all in a.test"),
        ("::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "fail", "softfail", "~all in a.test"),
        ("2001:db8:1::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fail", "softfail", "~all in a.test"),
    ]


def test_missing_and_unreachable() -> None:
    config = "defaults:\n  policy: fail\ndomains:\n  a.test:\n    senders: [{ip4: [10.0.0.1]}]\n  b.test:\n    senders: [{ip4: [10.0.0.1]}]\n"
    resolver = MemoryResolver({"a.test": [("TXT", "google-site-verification=x")]})
    resolver.fail("b.test", Outcome.TIMEOUT)
    cfg = parse_config(config, "senders.yaml", CATALOGUE)
    a, b = asyncio.run(diff_all(cfg.domains, CATALOGUE, resolver))
    assert (a.status, a.published, a.error) == ("missing", None, None)
    assert b.status == "unreachable" and b.error is not None and b.error.startswith("b.test: ")
    assert exit_status([a, b]) == 2 and exit_status([b]) == 3 and exit_status([]) == 0


def test_a_provider_that_fails_makes_the_domain_unreachable_not_different() -> None:
    resolver = MemoryResolver({"a.test": [("TXT", "v=spf1 include:spf.provider.test -all")]})
    resolver.fail("spf.provider.test", Outcome.SERVFAIL)
    cfg = parse_config(CONFIG, "senders.yaml", CATALOGUE)
    (found,) = asyncio.run(diff_all(cfg.domains, CATALOGUE, resolver))
    assert (found.status, found.differences) == ("unreachable", ())


def test_ranges_are_one_block_or_first_to_last() -> None:
    assert describe_range(167772160, 167772415) == "10.0.0.0/24"
    assert describe_range(167772160, 167772416) == "10.0.0.0-10.0.1.0"
    assert describe_range(V6_BASE, V6_BASE + 2**128 - 1) == "::/0"


def test_the_record_diff_lists_terms_only_one_side_has() -> None:
    assert record_diff("v=spf1 mx include:a.test -all", "v=spf1 mx ip4:10.0.0.1 -all") == ("- include:a.test",
                                                                                           "+ ip4:10.0.0.1")
    assert record_diff("v=spf1 -all", None) == ()


def test_dmarc_records_are_compared_by_meaning() -> None:
    declared = dmarc_meaning("v=DMARC1; p=reject; rua=mailto:a@x.test,mailto:b@x.test")
    assert declared == dmarc_meaning("v=DMARC1;p=REJECT; sp=reject; pct=100; adkim=r; fo=0; "
                                     "rua=mailto:b@x.test, MAILTO:a@x.test; x-unknown=1")
    assert declared != dmarc_meaning("v=DMARC1; p=reject; pct=50; rua=mailto:a@x.test,mailto:b@x.test")
    assert declared["sp"] == "reject"  # the subdomain policy defaults to p's


def test_dkim_keys_by_type_and_key() -> None:
    assert dkim_key("v=DKIM1; k=rsa; p=AB CD") == dkim_key("p=ABCD; v=DKIM1") == ("rsa", "ABCD")
    assert dkim_key("v=DKIM1; k=ed25519; p=ABCD") != dkim_key("v=DKIM1; p=ABCD")


@pytest.mark.parametrize(("answer", "status"), [
    (Answer("k1._domainkey.a.test", "CNAME", Outcome.OK, ("DKIM.mcsv.net",)), "in sync"),
    (Answer("k1._domainkey.a.test", "CNAME", Outcome.OK, ("dkim2.mcsv.net",)), "differs"),
    (Answer("k1._domainkey.a.test", "CNAME", Outcome.NXDOMAIN), "missing"),
    (Answer("k1._domainkey.a.test", "CNAME", Outcome.TIMEOUT), "unreachable"),
])
def test_a_cname_by_its_target(answer: Answer, status: str) -> None:
    record = Companion("k1._domainkey.a.test", "CNAME", "dkim.mcsv.net", 3600)
    assert compare_one(record, answer).status == status


def test_several_dmarc_records_differ() -> None:
    record = Companion("_dmarc.a.test", "TXT", "v=DMARC1; p=none", 3600)
    answer = Answer("_dmarc.a.test", "TXT", Outcome.OK, ("v=DMARC1; p=none", "v=DMARC1; p=reject"))
    found = compare_one(record, answer)
    assert (found.status, found.detail) == ("differs", "_dmarc.a.test holds 2 DMARC records; receivers apply none")


def test_a_declaration_that_cannot_be_built_is_that_domains_error_alone() -> None:
    config = """defaults:
  policy: fail
domains:
  a.test:
    senders:
      - ip4: [10.0.0.1]
        dkim: {selector: s1, key: "QUJD"}
      - ip4: [10.0.0.2]
        dkim: {selector: s1, key: "REVG"}
  b.test:
    senders: [{ip4: [10.0.0.1]}]
"""
    a, b = drifts(config, {"b.test": [("TXT", "v=spf1 ip4:10.0.0.1 -all")]})
    assert (a.status, a.error) == ("error", "a.test: s1._domainkey.a.test: ip4 at line 6 and ip4 at line 8 both need "
                                            "this name; two senders publish a key under the same selector")
    assert b.status == "in sync"
    assert exit_status([a, b]) == 1 and exit_status([a, b, replace(b, status="unreachable")]) == 1
    assert exit_status([a, replace(b, status="differs")]) == 2
