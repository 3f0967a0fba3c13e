"""spfbuild.audit and the SPF5xx rules: each rule fires on its case and stays quiet on its twin."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import pytest
from support.memresolver import MemoryResolver

from spfbuild.audit import ProviderIndex, Report, audit, audit_many, normalize_domain
from spfbuild.catalogue import load_catalogue
from spfbuild.dns import Answer, Outcome
from spfbuild.rules.registry import RULES

PROVIDERS = ProviderIndex(load_catalogue())

MIMECAST = {
    "_netblocks.mimecast.com": "v=spf1 include:eu._netblocks.mimecast.com include:us._netblocks.mimecast.com ~all",
    "eu._netblocks.mimecast.com": "v=spf1 ip4:195.130.217.0/24 ~all",
    "us._netblocks.mimecast.com": "v=spf1 ip4:207.211.31.0/25 ~all",
}
GOOGLE = {
    "_spf.google.com": "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com "
                       "include:_netblocks3.google.com ~all",
    "_netblocks.google.com": "v=spf1 ip4:64.233.160.0/19 ~all",
    "_netblocks2.google.com": "v=spf1 ip6:2001:4860:4000::/36 ~all",
    "_netblocks3.google.com": "v=spf1 ip4:172.217.0.0/19 ~all",
}


def zone(root: str, **extra: str) -> MemoryResolver:
    """example.com publishes `root`; keyword names (with _ for . and __ for -) publish the others."""
    resolver = MemoryResolver()
    resolver.txt("example.com", root)
    for records in (MIMECAST, GOOGLE):
        for name, text in records.items():
            resolver.txt(name, text)
    for key, text in extra.items():
        resolver.txt(key.replace("__", "-").replace("_", ".") + ".example.com", text)
    return resolver


def run(resolver: MemoryResolver, domain: str = "example.com") -> Report:
    return asyncio.run(audit(domain, resolver, PROVIDERS))


def codes(report: Report) -> list[str]:
    return [f.diagnostic.code for f in report.findings]


def with_mx(resolver: MemoryResolver, *hosts: str) -> MemoryResolver:
    return resolver.add("example.com", "MX", *((10 * (i + 1), h) for i, h in enumerate(hosts)))


def void_hosts(count: int) -> str:
    return "v=spf1 " + " ".join(f"a:gone{i}.example.com" for i in range(count)) + " -all"


def many_a(count: int) -> MemoryResolver:
    resolver = zone("v=spf1 a:pool.example.com -all")
    return resolver.add("pool.example.com", "A", *(f"198.51.100.{i}" for i in range(1, count + 1)))


# Google 4 + Mimecast 3 + a + mx + ptr + exists = 11 lookups.
ELEVEN = "v=spf1 include:_spf.google.com include:_netblocks.mimecast.com a mx ptr exists:%{i}.x.example.com -all"
BIG_TXT = tuple(f"site-verification-{i}={'x' * 60}" for i in range(8))

# (code, resolver where it fires, resolver where it stays quiet); the domain is example.com.
CASES: list[tuple[str, Callable[[], MemoryResolver], Callable[[], MemoryResolver]]] = [
    ("SPF501", lambda: MemoryResolver().txt("example.com", "MS=ms1"), lambda: zone("v=spf1 -all")),
    ("SPF502", lambda: zone("v=spf1 -all").txt("example.com", "v=spf1 ~all"), lambda: zone("v=spf1 -all")),
    ("SPF503", lambda: zone("v=spf1 include:inc.example.com -all", inc="v=spf1 ip4:192.0.2.0/33 -all"),
     lambda: zone("v=spf1 include:inc.example.com -all", inc="v=spf1 ip4:192.0.2.0/32 -all")),
    ("SPF504", lambda: zone("v=spf1 include:inc.example.com -all"),
     lambda: zone("v=spf1 include:inc.example.com -all", inc="v=spf1 -all")),
    ("SPF505", lambda: zone("v=spf1 include:inc.example.com -all", inc="v=spf1 include:example.com ~all"),
     lambda: zone("v=spf1 include:inc.example.com -all", inc="v=spf1 ~all")),
    ("SPF506", lambda: zone(ELEVEN), lambda: zone(ELEVEN.replace(" ptr", ""))),
    ("SPF507", lambda: zone(void_hosts(3)), lambda: zone(void_hosts(2))),
    ("SPF508", lambda: with_mx(zone("v=spf1 mx -all"), *(f"m{i}.example.com" for i in range(11))),
     lambda: with_mx(zone("v=spf1 mx -all"), *(f"m{i}.example.com" for i in range(10)))),
    ("SPF509", lambda: many_a(11), lambda: many_a(10)),
    ("SPF510", lambda: zone("v=spf1 include:inc.example.com -all").fail("inc.example.com", Outcome.SERVFAIL),
     lambda: zone("v=spf1 include:inc.example.com -all", inc="v=spf1 -all")),
    ("SPF511", lambda: zone("v=spf1 include:inc.example.com -all", inc="v=spf1 +all"),
     lambda: zone("v=spf1 include:inc.example.com -all", inc="v=spf1 ?all")),
    ("SPF512", lambda: zone("v=spf1 include:_netblocks.mimecast.com include:eu._netblocks.mimecast.com -all"),
     lambda: zone("v=spf1 include:_netblocks.mimecast.com include:_spf.google.com -all")),
    ("SPF513", lambda: with_mx(zone("v=spf1 mx include:_netblocks.mimecast.com -all"),
                               "eu-smtp-inbound-1.mimecast.com", "eu-smtp-inbound-2.mimecast.com"),
     lambda: with_mx(zone("v=spf1 mx include:_netblocks.mimecast.com -all"), "mail.example.com")),
    ("SPF514", lambda: zone("v=spf1 include:inc.example.com -all",
                            inc="v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(30)) + " -all"),
     lambda: zone("v=spf1 include:inc.example.com -all",
                  inc="v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(20)) + " -all")),
    ("SPF515", lambda: zone("v=spf1 -all").txt("example.com", *BIG_TXT),
     lambda: zone("v=spf1 -all").txt("example.com", *BIG_TXT[:4])),
    ("SPF516", lambda: zone("v=spf1 -all").add("example.com", "SPF", "v=spf1 -all"), lambda: zone("v=spf1 -all")),
    ("SPF517", lambda: zone("v=spf1 " + " ".join(f"ip4:198.18.{i}.0/24" for i in range(20)) + " -all"),
     lambda: zone("v=spf1 " + " ".join(f"ip4:198.18.{i}.0/24" for i in range(10)) + " -all")),
]


@pytest.mark.parametrize(("code", "fires", "quiet"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_and_stays_quiet(
    code: str, fires: Callable[[], MemoryResolver], quiet: Callable[[], MemoryResolver]
) -> None:
    assert code in codes(run(fires()))
    assert code not in codes(run(quiet()))


def test_every_dns_rule_has_a_case() -> None:
    dns_rules = {r.code for r in RULES if r.code.startswith("SPF5")}
    assert dns_rules == {c[0] for c in CASES} | {"SPF500"}


class TestMessages:
    def test_lookup_count_names_the_total_and_each_branch(self) -> None:
        (finding,) = [f for f in run(zone(ELEVEN)).findings if f.diagnostic.code == "SPF506"]
        assert finding.diagnostic.message == (
            "11 DNS lookups over the include tree (the limit is 10): include:_spf.google.com 4, "
            "include:_netblocks.mimecast.com 3, a 1, mx 1, ptr 1, exists:%{i}.x.example.com 1"
        )
        assert finding.path == () and finding.is_error

    def test_loop_message_gives_the_cycle_path(self) -> None:
        report = run(zone("v=spf1 include:a.example.com -all", a="v=spf1 include:b.example.com ~all",
                          b="v=spf1 include:a.example.com ~all"))
        (finding,) = [f for f in report.findings if f.diagnostic.code == "SPF505"]
        assert finding.diagnostic.message == "include loop: a.example.com -> b.example.com -> a.example.com"
        assert finding.path == (0, 0, 0) and finding.domain == "a.example.com"

    def test_syntax_error_names_the_include_and_the_column(self) -> None:
        report = run(zone("v=spf1 include:inc.example.com -all", inc="v=spf1 ip4:123.456.0.12 -all"))
        (finding,) = [f for f in report.findings if f.diagnostic.code == "SPF503"]
        assert finding.diagnostic.message == (
            "include:inc.example.com in example.com: the record of inc.example.com has a syntax error at "
            "column 12: '123.456.0.12' is not a valid IPv4 address"
        )

    def test_temperror_names_the_name_and_the_server(self) -> None:
        report = run(zone("v=spf1 include:inc.example.com -all").fail("inc.example.com", Outcome.TIMEOUT))
        (finding,) = [f for f in report.findings if f.diagnostic.code == "SPF510"]
        assert finding.diagnostic.message == (
            "include:inc.example.com in example.com: timeout: no answer from memory for inc.example.com TXT"
        )

    def test_duplicate_provider_through_another_include(self) -> None:
        report = run(zone("v=spf1 include:_netblocks.mimecast.com include:partner.example.com -all",
                          partner="v=spf1 include:us._netblocks.mimecast.com ~all"))
        (finding,) = [f for f in report.findings if f.diagnostic.code == "SPF512"]
        assert finding.diagnostic.message == (
            "Mimecast is referenced 2 times: include:_netblocks.mimecast.com in example.com; "
            "include:us._netblocks.mimecast.com in partner.example.com"
        )

    def test_a_providers_own_nested_records_are_one_reference(self) -> None:
        report = run(zone("v=spf1 include:_netblocks.mimecast.com include:_spf.google.com -all"))
        assert "SPF512" not in codes(report)

    def test_void_lookups_count_the_worse_address_family(self) -> None:
        resolver = zone("v=spf1 a:v6only1.example.com a:v6only2.example.com a:v6only3.example.com -all")
        for i in (1, 2, 3):
            resolver.add(f"v6only{i}.example.com", "AAAA", f"2001:db8::{i}")
        (finding,) = [f for f in run(resolver).findings if f.diagnostic.code == "SPF507"]
        assert finding.diagnostic.message.startswith("3 void lookups for IPv4 clients (the limit is 2): ")


class TestReport:
    def test_clean_domain_has_no_findings(self) -> None:
        report = run(zone("v=spf1 include:_spf.google.com -all"))
        assert report.findings == () and not report.has_errors
        assert (report.record, report.lookups, report.void_lookups) == ("v=spf1 include:_spf.google.com -all", 4, 0)

    def test_offline_lint_rules_run_on_the_record(self) -> None:
        report = run(zone("v=spf1 ip4:192.0.2.0/33 +all"))
        assert {"SPF109", "SPF200"} <= set(codes(report))
        assert report.has_errors

    def test_errors_come_before_warnings(self) -> None:
        resolver = zone("v=spf1 ?all").txt("example.com", "v=spf1 -all")
        resolver.add("example.com", "SPF", "v=spf1 -all")
        severities = [f.diagnostic.severity.rank for f in run(resolver).findings]
        assert severities == sorted(severities)

    def test_invalid_name_is_a_finding_not_an_exception(self) -> None:
        resolver = MemoryResolver()
        for bad in ("exa mple.com", "http://example.com/", "com", "", "-x.example.com", "a..b", "1.2.3.4"):
            report = run(resolver, bad)
            assert codes(report) == ["SPF500"], bad
            assert report.tree is None and report.record is None and report.has_errors
        assert resolver.calls == []

    def test_json_shape(self) -> None:
        report = run(zone("v=spf1 include:inc.example.com -all", inc="v=spf1 a ~all"), " Example.COM. ")
        data = report.to_dict()
        assert data["domain"] == "Example.COM."
        assert (data["record"], data["lookups"], data["void_lookups"]) == ("v=spf1 include:inc.example.com -all", 2, 1)
        tree = data["tree"]
        assert isinstance(tree, dict)
        assert tree["children"][0]["via"] == "include:inc.example.com"
        assert tree["children"][0]["terms"][0] == {
            "term": "a", "target": "inc.example.com", "exchanges": [], "addresses": [],
            "void": ["ipv4", "ipv6"], "errors": [],
        }
        assert data["findings"] == []


class TestNames:
    @pytest.mark.parametrize(
        ("given", "name"),
        [(" Example.COM. ", "example.com"), ("_spf.example.com", "_spf.example.com"),
         ("bücher.example", "xn--bcher-kva.example")],
    )
    def test_names_are_normalised(self, given: str, name: str) -> None:
        assert normalize_domain(given) == (name, None)

    @pytest.mark.parametrize(
        ("given", "problem"),
        [("a..example.com", "empty label"), ("localhost", "not a multi-label domain name"),
         (f"{'a' * 64}.example", f"label '{'a' * 64}' is 64 octets long; DNS allows 63"),
         ("not a domain.example", "a domain name holds only letters, digits, hyphens and underscores, between dots"),
         ("-bad.example", "a domain name holds only letters, digits, hyphens and underscores, between dots")],
    )
    def test_a_name_that_cannot_be_checked_says_why(self, given: str, problem: str) -> None:
        assert normalize_domain(given)[1] == problem

    def test_provider_index_knows_includes_and_hosts(self) -> None:
        assert PROVIDERS.provider_of("eu._netblocks.mimecast.com") == "Mimecast"
        assert PROVIDERS.provider_of("EU-SMTP-INBOUND-1.mimecast.com.") == "Mimecast"
        assert PROVIDERS.provider_of("example-com.mail.protection.outlook.com") == "Microsoft 365 (Exchange Online)"
        assert PROVIDERS.provider_of("example.com") is None


class TestBulk:
    def reports(self, resolver: MemoryResolver, names: list[str], concurrency: int = 200) -> list[Report]:
        async def collect() -> list[Report]:
            return [r async for r in audit_many(names, resolver, concurrency=concurrency, providers=PROVIDERS)]

        return asyncio.run(collect())

    def test_reports_come_in_input_order_and_shared_includes_are_asked_once(self) -> None:
        resolver = MemoryResolver()
        for record in (GOOGLE, MIMECAST):
            for name, text in record.items():
                resolver.txt(name, text)
        names = [f"d{i}.example" for i in range(300)]
        for name in names:
            resolver.txt(name, "v=spf1 include:_spf.google.com include:_netblocks.mimecast.com -all")
        reports = self.reports(resolver, [*names, "not a name"], concurrency=7)
        assert [r.domain for r in reports] == [*names, "not a name"]
        assert all(r.lookups == 7 for r in reports[:-1])
        asked = Counter((q.name, q.rdtype) for q in resolver.queries)
        assert max(asked.values()) == 1

    def test_concurrency_bounds_the_domains_in_flight(self) -> None:
        class Slow(MemoryResolver):
            in_flight = peak = 0

            async def query(self, name: str, rdtype: str) -> Answer:
                if rdtype == "TXT" and not name.startswith("_dmarc."):  # one SPF question per domain
                    Slow.in_flight += 1
                    Slow.peak = max(Slow.peak, Slow.in_flight)
                    await asyncio.sleep(0.001)
                    Slow.in_flight -= 1
                return await super().query(name, rdtype)

        resolver = Slow()
        names = [f"d{i}.example" for i in range(60)]
        for name in names:
            resolver.txt(name, "v=spf1 -all")
        assert len(self.reports(resolver, names, concurrency=5)) == 60
        assert Slow.peak <= 5

    def test_concurrency_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="concurrency"):
            self.reports(MemoryResolver(), ["example.com"], concurrency=0)
