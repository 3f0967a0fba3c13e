"""Evaluating many addresses at once: a term whose question names the address (a macro) is
asked address by address, each through its own view, and the addresses then go on together:
the terms after it are tried once for all of them, not once per address."""

from __future__ import annotations

import asyncio
import ipaddress
from collections import Counter

from support.memresolver import MemoryResolver

from spfbuild.dns import Answer
from spfbuild.evaluation import check_host, check_hosts
from spfbuild.mechanisms import DNSResolver
from spfbuild.selfcheck import Overlay

ZONE = {
    "top.w.test": [("TXT", "v=spf1 exists:%{i}.bl.w.test include:inc.w.test ip4:198.18.1.0/24 -all")],
    "inc.w.test": [("TXT", "v=spf1 ip4:198.18.0.0/25 -all")],
}
IPS = [ipaddress.ip_address(f"198.18.{n % 2}.{n * 9}") for n in range(20)]


class Counting(Overlay):
    """The self-check's overlay, counting the questions each lane asks of it."""

    def __init__(self, base: DNSResolver) -> None:
        super().__init__(base, {})
        self.asked: Counter[tuple[str, str]] = Counter()

    async def ask(self, key: tuple[str, str], name: str, rdtype: str) -> Answer:
        self.asked[key] += 1
        return await super().ask(key, name, rdtype)


def test_after_a_term_asked_per_address_the_addresses_go_on_in_one_lane() -> None:
    overlay = Counting(MemoryResolver(ZONE))

    async def run() -> tuple[list[str], list[str]]:
        together = await check_hosts(IPS, "top.w.test", "a@w.test", overlay, views=overlay.view, steps=False)
        alone = [await check_host(ip, "top.w.test", "a@w.test", overlay.view(ip)) for ip in IPS]
        return [e.result for e in together], [e.result for e in alone]

    together, alone = asyncio.run(run())
    assert together == alone
    assert set(together) == {"pass", "fail"}
    assert overlay.asked[("inc.w.test", "TXT")] == 1 + len(IPS)  # once for the lane, then once per check_host
