"""A record's region (spfbuild.regions): the boundaries inside which its result cannot change, read
from the answers the evaluator reads; and SharedResults, which evaluates an included record once
per class of its region, giving what evaluating it at every address gives."""

from __future__ import annotations

import asyncio
import ipaddress
import random

from support.memresolver import MemoryResolver

from spfbuild.dns import Outcome
from spfbuild.evaluation import SharedResults, check_host
from spfbuild.intervals import END, V6_BASE
from spfbuild.regions import Region, may_spell_an_address, region_of


def v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def v6(text: str) -> int:
    return V6_BASE + int(ipaddress.IPv6Address(text))


def region(resolver: MemoryResolver, name: str) -> Region | None:
    return asyncio.run(region_of(resolver, name))


def test_the_ranges_of_a_record_and_of_everything_it_includes_are_its_boundaries() -> None:
    resolver = MemoryResolver()
    resolver.txt("top.test", "v=spf1 ip4:192.0.2.0/24 include:in.test redirect=r.test")
    resolver.txt("in.test", "v=spf1 -ip4:198.51.100.1 ip6:2001:db8::/32 ~all")
    resolver.txt("r.test", "v=spf1 ip4:203.0.113.0/25 -all")
    found = region(resolver, "top.test")
    assert found is not None
    assert found.bounds == tuple(sorted({
        0, V6_BASE, END, v4("192.0.2.0"), v4("192.0.3.0"), v4("198.51.100.1"), v4("198.51.100.2"),
        v4("203.0.113.0"), v4("203.0.113.128"), v6("2001:db8::"), v6("2001:db9::"),
    }))
    assert ("in.test", "TXT") in found.names and ("r.test", "TXT") in found.names


def test_a_and_mx_give_their_addresses_with_the_prefixes_of_both_families() -> None:
    resolver = MemoryResolver()
    resolver.txt("top.test", "v=spf1 a:h.test/24//64 mx:m.test/28 -all")
    resolver.add("h.test", "A", "192.0.2.77").add("h.test", "AAAA", "2001:db8::5")
    resolver.add("m.test", "MX", (10, "mx1.test")).add("mx1.test", "A", "198.51.100.20")
    found = region(resolver, "top.test")
    assert found is not None
    assert {v4("192.0.2.0"), v4("192.0.3.0"), v6("2001:db8::"), v6("2001:db8:0:1::"),
            v4("198.51.100.16"), v4("198.51.100.32")} <= set(found.bounds)


def test_terms_after_all_and_a_redirect_beside_all_are_not_read() -> None:
    resolver = MemoryResolver()
    resolver.txt("top.test", "v=spf1 ip4:192.0.2.0/24 -all ip4:198.51.100.0/24 redirect=r.test")
    found = region(resolver, "top.test")
    assert found is not None
    assert found.bounds == (0, v4("192.0.2.0"), v4("192.0.3.0"), V6_BASE, END)
    assert ("r.test", "TXT") not in found.names


def test_a_broken_or_missing_record_is_one_class() -> None:
    resolver = MemoryResolver()
    resolver.txt("two.test", "v=spf1 -all", "v=spf1 +all")
    resolver.fail("down.test", Outcome.SERVFAIL)
    for name in ("two.test", "down.test", "missing.test"):
        found = region(resolver, name)
        assert found is not None and found.bounds == (0, V6_BASE, END)


def test_what_depends_on_the_client_beyond_its_ranges_has_no_region() -> None:
    resolver = MemoryResolver()
    resolver.txt("macro.test", "v=spf1 exists:%{i}.x.test -all")
    resolver.txt("ptr.test", "v=spf1 ptr -all")
    resolver.txt("deep.test", "v=spf1 include:macro.test -all")
    resolver.txt("redirect.test", "v=spf1 redirect=%{d}.r.test")
    resolver.txt("loop.test", "v=spf1 include:loop2.test -all")
    resolver.txt("loop2.test", "v=spf1 include:loop.test -all")
    resolver.txt("spelled.test", "v=spf1 a:1.2.3.4.hosts.test -all")
    for name in ("macro.test", "ptr.test", "deep.test", "redirect.test", "loop.test", "spelled.test"):
        assert region(resolver, name) is None, name


def test_names_that_may_spell_an_address() -> None:
    assert may_spell_an_address("4.3.2.1.in-addr.test")
    assert may_spell_an_address(".".join("20010db8000000000000000000000001") + ".ip6.test")
    assert not may_spell_an_address("_spf.google.com")
    assert not may_spell_an_address("s1.s2.mail.1.example")


def world() -> MemoryResolver:
    resolver = MemoryResolver()
    resolver.txt("top.test", "v=spf1 include:p.test ?include:n.test a:h.test/30 mx:m.test//120 include:x.test "
                             "redirect=r.test")
    resolver.txt("p.test", "v=spf1 -ip4:192.0.2.5 -ip4:192.0.2.64/28 ip4:192.0.2.0/24 ip6:2001:db8::/64 "
                           "include:q.test ~all")
    resolver.txt("q.test", "v=spf1 ip4:198.51.100.0/25 -ip6:2001:db8:1::/48 ip6:2001:db8::/32")
    resolver.txt("n.test", "v=spf1 ip4:198.51.100.128/26 -all")
    resolver.add("h.test", "A", "203.0.113.9").add("h.test", "AAAA", "2001:db8:2::1")
    resolver.add("m.test", "MX", (5, "mx.test")).add("mx.test", "AAAA", "2001:db8:3::77")
    resolver.txt("x.test", "v=spf1 exists:%{ir}.dyn.test -all")
    resolver.add("9.113.0.203.dyn.test", "A", "127.0.0.2")
    resolver.txt("r.test", "v=spf1 ip4:203.0.113.128/25 ~all")
    return resolver


def addresses() -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every boundary of the world's ranges and the addresses beside them, and random ones."""
    rng = random.Random(7)
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for text in ("192.0.2.0", "192.0.2.5", "192.0.2.64", "192.0.2.80", "192.0.3.0", "198.51.100.0",
                 "198.51.100.128", "198.51.100.192", "203.0.113.8", "203.0.113.9", "203.0.113.12",
                 "203.0.113.128", "0.0.0.0", "255.255.255.255"):
        value = int(ipaddress.IPv4Address(text))
        found += [ipaddress.IPv4Address(max(0, min(2**32 - 1, value + d))) for d in (-1, 0, 1)]
    for text in ("2001:db8::", "2001:db8:0:1::", "2001:db8:1::", "2001:db8:2::", "2001:db8:3::77", "::"):
        value = int(ipaddress.IPv6Address(text))
        found += [ipaddress.IPv6Address(max(0, value + d)) for d in (-1, 0, 1)]
    found += [ipaddress.IPv4Address(rng.randrange(2**32)) for _ in range(40)]
    found += [ipaddress.IPv6Address(int(ipaddress.IPv6Address("2001:db8::")) + rng.randrange(2**96))
              for _ in range(40)]
    return found


def results(shared: SharedResults | None, limit: int | None) -> list[tuple[str, int, int]]:
    async def run() -> list[tuple[str, int, int]]:
        resolver = world()
        out = []
        for address in addresses():
            e = await check_host(address, "top.test", "a@top.test", resolver, keep_trace=False, shared=shared,
                                 max_lookups=limit, max_void_lookups=limit)
            out.append((e.result, e.lookups, e.void_lookups))
        return out

    return asyncio.run(run())


def test_results_shared_per_class_are_what_evaluating_every_address_gives() -> None:
    for limit in (None, 1000):
        assert results(SharedResults(), limit) == results(None, limit)


def test_an_included_record_is_evaluated_once_per_class() -> None:
    async def fetches() -> int:
        resolver = MemoryResolver()
        resolver.txt("top.test", "v=spf1 include:p.test -all")
        resolver.txt("p.test", "v=spf1 ip4:192.0.2.0/24 -all")
        shared = SharedResults()
        for last in range(1, 200):
            await check_host(f"10.0.0.{last}", "top.test", "a@top.test", resolver, keep_trace=False, shared=shared)
        return resolver.calls.count(("p.test", "TXT"))

    # Once for its region, once for the one class all these addresses are in.
    assert asyncio.run(fetches()) == 2
