"""`check` beside SPF: the domain's DMARC record, its report destinations' authorisation
(RFC 7489 section 7.1) and the DKIM selectors of the providers its SPF tree includes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from support.memresolver import MemoryResolver

from spfbuild.audit import Report, audit
from spfbuild.dns import Outcome

from .test_audit import PROVIDERS, zone

GOOD = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"
KEY = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"


def with_dmarc(text: str = GOOD, spf: str = "v=spf1 -all") -> MemoryResolver:
    resolver = zone(spf)
    resolver.txt("_dmarc.example.com", text)
    return resolver


def mailchimp(key: str | None) -> MemoryResolver:
    resolver = with_dmarc(spf="v=spf1 include:servers.mcsv.net -all")
    resolver.txt("servers.mcsv.net", "v=spf1 ip4:205.201.128.0/20 -all")
    if key is not None:
        resolver.txt("k1._domainkey.example.com", key)
    return resolver


def run(resolver: MemoryResolver) -> Report:
    return asyncio.run(audit("example.com", resolver, PROVIDERS))


def codes(report: Report) -> list[str]:
    return [f.diagnostic.code for f in report.companion_findings]


def external(authorised: bool) -> MemoryResolver:
    resolver = with_dmarc("v=DMARC1; p=none; rua=mailto:d@example.com,mailto:r@reports.example.net")
    if authorised:
        resolver.txt("example.com._report._dmarc.reports.example.net", "v=DMARC1")
    return resolver


def failing_dmarc() -> MemoryResolver:
    resolver = zone("v=spf1 -all")
    resolver.fail("_dmarc.example.com", Outcome.TIMEOUT)
    return resolver


# (code, resolver where it fires, resolver where it stays quiet); the domain is example.com.
CASES: list[tuple[str, Callable[[], MemoryResolver], Callable[[], MemoryResolver]]] = [
    ("DMARC115", lambda: zone("v=spf1 -all"), with_dmarc),
    ("DMARC116", lambda: with_dmarc().txt("_dmarc.example.com", "v=DMARC1; p=none"), with_dmarc),
    ("DMARC117", lambda: external(False), lambda: external(True)),
    ("DMARC118", lambda: mailchimp(None), lambda: mailchimp(KEY)),
    ("DMARC119", failing_dmarc, with_dmarc),
    ("DMARC104", lambda: with_dmarc("v=DMARC1; p=reject; pct=150"), with_dmarc),
]


@pytest.mark.parametrize(("code", "fires", "quiet"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_and_stays_quiet(code: str, fires: Callable[[], MemoryResolver],
                                    quiet: Callable[[], MemoryResolver]) -> None:
    assert code in codes(run(fires()))
    assert code not in codes(run(quiet()))


def test_the_json_gains_dmarc_and_dkim_keys() -> None:
    shape = run(mailchimp(KEY)).to_dict()
    assert shape["dmarc"] == {"name": "_dmarc.example.com", "record": GOOD, "policy": "reject",
                              "report_destinations": [], "findings": []}
    assert shape["dkim"] == {"selectors": [{"provider": "Mailchimp", "selector": "k1",
                                            "name": "k1._domainkey.example.com", "status": "ok"}], "findings": []}


def test_a_revoked_key_is_told_from_a_missing_one() -> None:
    (check,) = run(mailchimp("v=DKIM1; p=")).dkim
    assert check.status == "revoked"
    (check,) = run(mailchimp(None)).dkim
    assert check.status == "missing"


def test_a_broken_dmarc_record_is_an_error_of_the_domain() -> None:
    assert run(with_dmarc("v=DMARC1; p=block")).has_errors
    assert not run(zone("v=spf1 -all")).has_errors  # no DMARC record: a warning


def test_report_destinations_inside_the_organisation_need_no_authorisation() -> None:
    report = run(with_dmarc("v=DMARC1; p=none; rua=mailto:d@reports.example.com"))
    assert report.dmarc is not None and report.dmarc.destinations == ()
    report = run(external(True))
    assert report.dmarc is not None and report.dmarc.destinations == (("reports.example.net", True),)


def test_the_dkim_question_of_a_provider_the_record_includes_goes_out_beside_the_walk() -> None:
    # Mailchimp is included by the domain's own record: its selector is asked as soon as that
    # record is in, before the walk reaches the level below a.example.net; each question once.
    resolver = with_dmarc(spf="v=spf1 include:servers.mcsv.net include:a.example.net -all")
    resolver.txt("servers.mcsv.net", "v=spf1 ip4:205.201.128.0/20 -all")
    resolver.txt("a.example.net", "v=spf1 include:b.example.net -all")
    resolver.txt("b.example.net", "v=spf1 ip4:192.0.2.0/24 -all")
    resolver.txt("k1._domainkey.example.com", KEY)
    report = run(resolver)
    assert [(d.name, d.status) for d in report.dkim] == [("k1._domainkey.example.com", "ok")]
    asked = [name for name, rdtype in resolver.calls if rdtype == "TXT"]
    assert asked.index("k1._domainkey.example.com") < asked.index("b.example.net")
    assert asked.count("k1._domainkey.example.com") == 1


def test_a_provider_met_deeper_in_the_tree_is_asked_after_the_walk() -> None:
    resolver = with_dmarc(spf="v=spf1 include:a.example.net -all")
    resolver.txt("a.example.net", "v=spf1 include:servers.mcsv.net -all")
    resolver.txt("servers.mcsv.net", "v=spf1 ip4:205.201.128.0/20 -all")
    report = run(resolver)
    assert [(d.name, d.status) for d in report.dkim] == [("k1._domainkey.example.com", "missing")]
    assert [c for c in resolver.calls if c[0] == "k1._domainkey.example.com"] == [("k1._domainkey.example.com", "TXT")]
