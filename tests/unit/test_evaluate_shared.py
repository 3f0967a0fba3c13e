"""Shared sub-evaluations (evaluation.SharedResults) change no result: an included record's
result at an address is reused only where evaluating it again would give the same, and the
lookup and void-lookup limits still end an evaluation exactly where a receiver's ends."""

from __future__ import annotations

import asyncio
import ipaddress

from support.memresolver import MemoryResolver

from spfbuild.evaluation import SharedResults, check_host


def world() -> MemoryResolver:
    resolver = MemoryResolver()
    resolver.txt("chain.test", "v=spf1 include:c1.test -all")
    for n in range(1, 9):
        resolver.txt(f"c{n}.test", f"v=spf1 include:c{n + 1}.test ip4:192.0.2.{n}")
    resolver.txt("c9.test", "v=spf1 ip4:192.0.2.9 -all")
    resolver.txt("short.test", "v=spf1 include:c5.test -all")  # 5 lookups: within the limit
    resolver.txt("long.test", "v=spf1 a:ok.test mx:ok.test include:c1.test -all")  # 11 lookups: permerror
    resolver.add("ok.test", "A", "203.0.113.1").add("ok.test", "MX", (10, "ok.test"))
    resolver.txt("voids.test", "v=spf1 include:v.test a:nx3.test -all")
    resolver.txt("v.test", "v=spf1 a:nx1.test a:nx2.test ip4:198.51.100.0/24 -all")
    resolver.txt("who.test", "v=spf1 include:%{l}.users.test -all")
    resolver.txt("alice.users.test", "v=spf1 ip4:192.0.2.0/24 -all")
    resolver.txt("bob.users.test", "v=spf1 -all")
    resolver.txt("macro.test", "v=spf1 include:who.test -all")
    return resolver


DOMAINS = ["chain.test", "short.test", "long.test", "voids.test", "macro.test"]
SENDERS = ["alice@macro.test", "bob@macro.test"]
ADDRESSES = [ipaddress.IPv4Address(f"192.0.2.{n}") for n in range(0, 12)] + [ipaddress.IPv4Address("198.51.100.7")]


def results(shared: SharedResults | None, *, limit: int | None = None) -> list[str]:
    async def run() -> list[str]:
        resolver = world()
        out = []
        for domain in DOMAINS:
            for sender in SENDERS:
                for address in ADDRESSES:
                    evaluation = await check_host(address, domain, sender, resolver, keep_trace=False, shared=shared,
                                                  max_lookups=limit, max_void_lookups=limit)
                    out.append(f"{domain} {sender} {address}: {evaluation.result} ({evaluation.lookups}, "
                               f"{evaluation.void_lookups})")
        return out

    return asyncio.run(run())


def test_shared_results_give_what_evaluating_each_record_again_gives() -> None:
    assert results(SharedResults()) == results(None)


def test_with_the_limits_lifted_too() -> None:
    assert results(SharedResults(), limit=1000) == results(None, limit=1000)


def test_one_memo_across_limits_still_stops_at_the_limit() -> None:
    shared = SharedResults()
    lifted = results(shared, limit=1000)  # fills the memo with results that cost many lookups
    assert results(shared) == results(None)
    assert lifted != results(None)  # the lifted evaluation of long.test differs: the memo did not leak it
