"""The flattener's self-check: the project's own evaluator, run on the original declaration and on
the flattened record set, must give the same result at every range boundary.

The original is evaluated with the lookup limits lifted: its intent is what flattening keeps,
and exceeding the limits is usually why it is being flattened.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable

import netaddr

from spfbuild.dns import Answer, Outcome, Resolver
from spfbuild.emit import RecordSet
from spfbuild.evaluate import check_host
from spfbuild.partition import FlattenError
from spfbuild.record import Record

MAX_SAMPLES = 4000
BATCH = 200


class Overlay:
    """Serves the given TXT records, asks the real resolver (and its cache) for the rest."""

    def __init__(self, base: Resolver, records: dict[str, tuple[str, ...]]):
        self.base = base
        self.records = {name.lower().rstrip("."): values for name, values in records.items()}

    async def query(self, name: str, rdtype: str) -> Answer:
        key = name.lower().rstrip(".")
        if rdtype.upper() == "TXT" and key in self.records:
            return Answer(key, "TXT", Outcome.OK, self.records[key], server="self-check")
        return await self.base.query(name, rdtype)


async def self_check(
    domain: str, original: Record, flattened: RecordSet, resolver: Resolver, sets: Iterable[netaddr.IPSet]
) -> int:
    """Raise FlattenError naming the first address whose result differs; return how many were checked."""
    before = Overlay(resolver, {domain: (str(original),)})
    after = Overlay(resolver, {r.name: (r.value,) for r in flattened.records})
    extra = [netaddr.IPSet([str(n) for n in _networks(r.value)]) for r in flattened.records]
    addresses = boundary_addresses([*sets, *extra])
    sender = f"postmaster@{domain}"
    for start in range(0, len(addresses), BATCH):
        batch = addresses[start : start + BATCH]
        old = await asyncio.gather(*(_result(a, domain, sender, before, lifted=True) for a in batch))
        new = await asyncio.gather(*(_result(a, domain, sender, after, lifted=False) for a in batch))
        for address, was, now in zip(batch, old, new, strict=True):
            if was != now:
                raise FlattenError(
                    f"{domain}: self-check failed: {address} gives {now} after flattening but {was} before; "
                    "nothing was emitted"
                )
    return len(addresses)


async def _result(address: str, domain: str, sender: str, resolver: Overlay, *, lifted: bool) -> str:
    limit = 10_000 if lifted else None
    evaluation = await check_host(address, domain, sender, resolver, max_lookups=limit, max_void_lookups=limit)
    return evaluation.result


def boundary_addresses(sets: Iterable[netaddr.IPSet]) -> list[str]:
    """First and last address of every range, the addresses just outside, a sample inside."""
    points: set[tuple[int, int]] = set()
    for ipset in sets:
        for net in ipset.iter_cidrs():
            top = 2**32 - 1 if net.version == 4 else 2**128 - 1
            for value in (net.first, net.last, net.first - 1, net.last + 1, (net.first + net.last) // 2):
                if 0 <= value <= top:
                    points.add((net.version, value))
    ordered = sorted(points)
    if len(ordered) > MAX_SAMPLES:
        step = len(ordered) / MAX_SAMPLES
        ordered = [ordered[int(i * step)] for i in range(MAX_SAMPLES)]
    return [str(ipaddress.ip_address(v) if ver == 4 else ipaddress.IPv6Address(v)) for ver, v in ordered]


def _networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    from spfbuild.record import parse

    return [m.network for m in parse(text).record.mechanisms if m.network is not None]
