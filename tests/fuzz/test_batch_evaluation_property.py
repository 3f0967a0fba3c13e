"""check_hosts() of many addresses gives each address exactly what check_host() gives it alone:
the same result, problem, lookups, void lookups, deciding terms and explanation, on random
worlds of includes, redirects, a/mx/ptr/exists, macros, exp=, void names, DNS failures,
syntax errors and include chains past the lookup limit; with and without shared results; and
through the self-check's per-address views, which answer names spelling an address for it alone."""

from __future__ import annotations

import asyncio
import ipaddress
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.memresolver import MemoryResolver

from spfbuild.dns import Outcome
from spfbuild.evaluation import Evaluation, SharedResults, check_host, check_hosts, sender_address
from spfbuild.record import IPAddress
from spfbuild.selfcheck import Overlay

QUALIFIERS = ["", "-", "~", "?"]
NAMES = 7


def network(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return f"ip6:2001:db8::{rng.randrange(0, 256):x}/{rng.choice([120, 124, 128])}"
    prefix = rng.choice([24, 26, 28, 30, 32])
    base = ipaddress.ip_network(f"198.18.0.{rng.randrange(256)}/{prefix}", strict=False)
    return f"ip4:{base.network_address}/{prefix}"


def term(rng: random.Random, i: int) -> str:
    q = rng.choice(QUALIFIERS)
    later = f"t{rng.randrange(i + 1, NAMES)}.w.test" if i + 1 < NAMES else "t0.w.test"
    return rng.choice([
        q + network(rng), q + network(rng), q + network(rng),
        f"{q}include:{later}", f"{q}include:{later}",
        f"{q}a:host.w.test/{rng.choice([24, 28, 32])}", f"{q}a:host.w.test//{rng.choice([120, 128])}",
        f"{q}mx:w.test/{rng.choice([26, 32])}", f"{q}mx:spelled.w.test",
        f"{q}exists:%{{i}}.hosts.w.test", f"{q}exists:%{{ir}}.r.w.test", f"{q}exists:host.w.test",
        f"{q}a:%{{l}}.users.w.test", f"{q}include:%{{l}}.users.w.test", f"{q}ptr:w.test", f"{q}ptr",
        f"{q}a:nx{rng.randrange(3)}.w.test", f"{q}exists:nx.w.test", f"{q}a:slow.w.test",
        f"{q}a:9.0.18.198.w.test", f"{q}include:broken.w.test", f"{q}include:none.w.test",
        f"{q}include:long.w.test",
    ])


def world(seed: int) -> MemoryResolver:
    rng = random.Random(seed)
    resolver = MemoryResolver()
    resolver.add("host.w.test", "A", "198.18.0.77").add("host.w.test", "AAAA", "2001:db8::77")
    resolver.add("w.test", "MX", (10, "host.w.test"), (20, "mx2.w.test"))
    resolver.add("mx2.w.test", "A", "198.18.0.130")
    resolver.add("spelled.w.test", "MX", (10, "9.0.18.198.w.test"))
    resolver.add("9.0.18.198.w.test", "A", "198.18.0.9")
    resolver.add("198.18.0.9.hosts.w.test", "A", "127.0.0.2").add("12.0.18.198.r.w.test", "A", "127.0.0.2")
    resolver.add("alice.users.w.test", "A", "198.18.0.12")
    resolver.txt("alice.users.w.test", "v=spf1 ip4:198.18.0.0/28 -all")
    resolver.add("9.0.18.198.in-addr.arpa", "PTR", "host.w.test")
    resolver.add("77.0.18.198.in-addr.arpa", "PTR", "host.w.test")
    resolver.add("slow.w.test", "A", "198.18.0.1").fail("slow.w.test", Outcome.TIMEOUT)
    resolver.txt("broken.w.test", "v=spf1 ip4:198.18.0.300 -all")
    resolver.touch("none.w.test")
    resolver.txt("long.w.test", "v=spf1 " + " ".join(f"a:h{n}.w.test" for n in range(9)) + " ~all")
    resolver.txt("why.w.test", "denied for %{i} by %{d}")
    for i in reversed(range(NAMES)):
        terms = [term(rng, i) for _ in range(rng.randrange(1, 6))]
        ending = rng.random()
        if ending < 0.45:
            terms.append(rng.choice(QUALIFIERS) + "all")
        elif ending < 0.7:
            later = f"t{rng.randrange(i + 1, NAMES)}.w.test" if i + 1 < NAMES else "none.w.test"
            terms.append(rng.choice([f"redirect={later}", "redirect=%{l}.users.w.test"]))
        if rng.random() < 0.3:
            terms.append("exp=why.w.test")
        resolver.txt(f"t{i}.w.test", "v=spf1 " + " ".join(terms))
    return resolver


def addresses(rng: random.Random) -> list[IPAddress]:
    found: list[IPAddress] = [ipaddress.IPv4Address(f"198.18.0.{rng.choice([0, 1, 9, 12, 77, 130, 255])}")
                              for _ in range(6)]
    found += [ipaddress.IPv4Address(f"198.18.0.{rng.randrange(256)}") for _ in range(25)]
    found += [ipaddress.IPv6Address(f"2001:db8::{rng.randrange(0, 300):x}") for _ in range(8)]
    found += [ipaddress.IPv6Address("::ffff:198.18.0.9"), ipaddress.IPv4Address("10.0.0.1")]
    return found


def facts(evaluation: Evaluation) -> tuple[object, ...]:
    e = evaluation
    return e.result, e.problem, e.lookups, e.void_lookups, e.matched, e.explanation


def one_by_one(resolver: object, ips: list[IPAddress], domain: str, sender: str, limit: int | None,
               views: Overlay | None = None) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        found = []
        for ip in ips:
            own = views.view(sender_address(ip)) if views is not None else resolver
            found.append(facts(await check_host(ip, domain, sender, own, max_lookups=limit,  # type: ignore[arg-type]
                                                max_void_lookups=limit, keep_trace=False, timestamp=0)))
        return found

    return asyncio.run(run())


def at_once(resolver: object, ips: list[IPAddress], domain: str, sender: str, limit: int | None,
            shared: SharedResults | None, views: Overlay | None = None, steps: bool = True) -> list[tuple[object, ...]]:
    async def run() -> list[Evaluation]:
        return await check_hosts(ips, domain, sender, resolver, max_lookups=limit,  # type: ignore[arg-type]
                                 max_void_lookups=limit, shared=shared, timestamp=0,
                                 views=views.view if views is not None else None, steps=steps)

    return [facts(e) for e in asyncio.run(run())]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the profile's count: `long` runs more
@given(seed=st.integers(0, 2**32 - 1), start=st.integers(0, NAMES - 1), limit=st.sampled_from([None, 3, 1000]),
       sender=st.sampled_from(["alice@w.test", "bob@w.test"]))
def test_many_addresses_at_once_give_what_each_gives_alone(seed: int, start: int, limit: int | None,
                                                           sender: str) -> None:
    resolver, ips, domain = world(seed), addresses(random.Random(seed)), f"t{start}.w.test"
    alone = one_by_one(resolver, ips, domain, sender, limit)
    assert at_once(resolver, ips, domain, sender, limit, None) == alone
    shared = SharedResults()
    assert at_once(resolver, ips, domain, sender, limit, shared) == alone
    assert at_once(resolver, ips, domain, sender, limit, shared) == alone  # from the shared results
    # Without the deciding terms, runs of ranges are tried at once: everything else is the same.
    bare = [facts[:4] + facts[5:] for facts in alone]
    assert [f[:4] + f[5:] for f in at_once(resolver, ips, domain, sender, limit, shared, steps=False)] == bare
    assert all(not f[4] for f in at_once(resolver, ips, domain, sender, limit, None, steps=False))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), start=st.integers(0, NAMES - 1))
def test_through_per_address_views_too(seed: int, start: int) -> None:
    resolver, ips = world(seed), addresses(random.Random(seed))
    domain = f"t{start}.w.test"
    overlay = Overlay(resolver, {"top.w.test": (f"v=spf1 include:{domain} ip4:198.18.0.128/25 -all",)})
    alone = one_by_one(overlay, ips, "top.w.test", "alice@w.test", None, views=overlay)
    assert at_once(overlay, ips, "top.w.test", "alice@w.test", None, SharedResults(), views=overlay) == alone
    bare = [facts[:4] + facts[5:] for facts in alone]
    found = at_once(overlay, ips, "top.w.test", "alice@w.test", None, SharedResults(), views=overlay, steps=False)
    assert [f[:4] + f[5:] for f in found] == bare


def test_a_lane_splits_where_ranges_begin_and_end() -> None:
    resolver = MemoryResolver()
    resolver.txt("split.test", "v=spf1 -ip4:192.0.2.128/25 ip4:192.0.2.0/24 include:in.test ~all")
    resolver.txt("in.test", "v=spf1 ip4:198.51.100.0/24 -all")
    ips = [ipaddress.IPv4Address(a) for a in ("192.0.2.1", "192.0.2.200", "198.51.100.9", "203.0.113.1")]
    found = asyncio.run(check_hosts(ips, "split.test", "postmaster@split.test", resolver))
    assert [(e.result, e.lookups) for e in found] == [("pass", 0), ("fail", 0), ("pass", 1), ("softfail", 1)]
    assert [str(s) for s in found[2].matched] == ["include:in.test in split.test", "ip4:198.51.100.0/24 in in.test"]


def test_without_deciding_terms_a_run_of_ranges_of_one_qualifier_is_one_step() -> None:
    resolver = MemoryResolver()
    resolver.txt("runs.test", "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.128/25 ip6:2001:db8::/64 -ip4:198.51.100.0/24 "
                              "-ip4:198.51.100.7 ip4:198.51.100.0/23 include:in.test ~all")
    resolver.txt("in.test", "v=spf1 ip4:203.0.113.0/25 ip4:203.0.113.64/26 -all")
    ips = [ipaddress.ip_address(a) for a in ("192.0.2.200", "2001:db8::9", "198.51.100.7", "198.51.101.1",
                                              "203.0.113.70", "203.0.113.200", "10.0.0.1")]
    one_each = [asyncio.run(check_host(ip, "runs.test", "postmaster@runs.test", resolver)) for ip in ips]
    found = asyncio.run(check_hosts(ips, "runs.test", "postmaster@runs.test", resolver, steps=False))
    assert [e.result for e in found] == [e.result for e in one_each] == [
        "pass", "pass", "fail", "pass", "pass", "softfail", "softfail"]
    assert [e.lookups for e in found] == [e.lookups for e in one_each]
    assert all(e.matched == () for e in found)
