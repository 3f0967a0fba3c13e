"""The flattener's self-check: the project's own evaluator, run on the original declaration and on
the flattened record set, must give the same result at every range boundary.

The original is evaluated with the lookup limits lifted: its intent is what flattening keeps,
and exceeding the limits is usually why it is being flattened.

Every address is covered: the ranges of both sides (their ip4/ip6 terms, the addresses of their
`a` and `mx` terms, at any depth, and the result classes the flattener computed) cut the address
space into intervals inside which no range begins or ends, so each side gives one result across
an interval; the first address of every interval is evaluated.

DNS questions that name the sample address itself (`exists:%{i}...`, `ptr`'s reverse lookup and
the names it gives) are answered NXDOMAIN by the self-check instead of being sent: that is what
DNS says for nearly every sample address, both sides see the same answer, and thousands of
one-off questions would otherwise go out, one per address. Every other question is the tree's
own and comes from the resolver's cache.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
from collections.abc import Iterable

import netaddr

from spfbuild.dns import Answer, Outcome, Resolver
from spfbuild.emit import RecordSet
from spfbuild.evaluation import check_host
from spfbuild.mechanisms import MAX_NAMES
from spfbuild.partition import FlattenError
from spfbuild.record import IPAddress, Mechanism, Record, is_spf_record, parse

MAX_SAMPLES = 4000
BATCH = 200


class Overlay:
    """Serves the given TXT records, asks the real resolver (and its cache) for the rest."""

    def __init__(self, base: Resolver, records: dict[str, tuple[str, ...]]):
        self.base = base
        self.answers = {
            (key, "TXT"): Answer(key, "TXT", Outcome.OK, values, server="self-check")
            for key, values in ((name.lower().rstrip("."), values) for name, values in records.items())
        }

    async def query(self, name: str, rdtype: str) -> Answer:
        # Thousands of evaluations read the same few answers: each is asked of the resolver once.
        key = (name.lower().rstrip("."), rdtype.upper())
        known = self.answers.get(key)
        if known is None:
            known = self.answers[key] = await self.base.query(name, rdtype)
        return known


class _AddressView:
    """An overlay as seen by the evaluation of one sample address: questions that name the
    address (or ask its PTR records) are answered NXDOMAIN without being sent."""

    def __init__(self, overlay: Overlay, address: IPAddress):
        self.overlay = overlay
        self.forms = _address_forms(address)

    async def query(self, name: str, rdtype: str) -> Answer:
        key = "." + name.lower().rstrip(".") + "."
        if rdtype.upper() == "PTR" or any(form in key for form in self.forms):
            return Answer(key.strip("."), rdtype.upper(), Outcome.NXDOMAIN, server="self-check")
        return await self.overlay.query(name, rdtype)


@functools.lru_cache(maxsize=MAX_SAMPLES)  # asked for both sides of each sample address
def _address_forms(ip: IPAddress) -> tuple[str, ...]:
    """The address as macros write it into names (%{i}, %{ir}, %{c}), each between dots."""
    dotted = str(ip).split(".") if ip.version == 4 else list(ip.exploded.replace(":", "").lower())
    forms = {".".join(dotted), ".".join(reversed(dotted)), str(ip).lower()}
    return tuple(f".{form}." for form in forms)


async def self_check(
    domain: str, original: Record, flattened: RecordSet, resolver: Resolver, sets: Iterable[netaddr.IPSet]
) -> int:
    """Raise FlattenError naming the first address whose result differs; return how many were checked."""
    before = Overlay(resolver, {domain: (str(original),)})
    after = Overlay(resolver, {r.name: (r.value,) for r in flattened.records})
    networks = [n for r in flattened.records for n in _networks(r.value)]
    networks += await _tree_networks(original, domain, before)
    addresses = boundary_addresses(sets, networks)
    sender = f"postmaster@{domain}"
    for start in range(0, len(addresses), BATCH):
        batch = addresses[start : start + BATCH]
        old = await asyncio.gather(*(_result(a, domain, sender, _AddressView(before, a), lifted=True) for a in batch))
        new = await asyncio.gather(*(_result(a, domain, sender, _AddressView(after, a), lifted=False) for a in batch))
        for address, was, now in zip(batch, old, new, strict=True):
            if was != now:
                raise FlattenError(
                    f"{domain}: self-check failed: {address} gives {now} after flattening but {was} before; "
                    "nothing was emitted"
                )
    return len(addresses)


async def _result(address: IPAddress, domain: str, sender: str, resolver: _AddressView, *, lifted: bool) -> str:
    limit = 10_000 if lifted else None
    evaluation = await check_host(address, domain, sender, resolver, max_lookups=limit, max_void_lookups=limit,
                                  keep_trace=False)
    return evaluation.result


def boundary_addresses(
    sets: Iterable[netaddr.IPSet], networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()
) -> list[IPAddress]:
    """The first address of each interval between consecutive range boundaries: the start of each
    address family, and every address where a range of `sets` or one of `networks` begins or
    just after one ends."""
    intervals = [(i.version, i.first, i.last) for ipset in sets for i in ipset.iter_ipranges()]
    intervals += [(n.version, int(n.network_address), int(n.broadcast_address)) for n in networks]
    points: set[tuple[int, int]] = {(4, 0), (6, 0)}
    for version, first, last in intervals:
        points.add((version, first))
        if last < (2**32 - 1 if version == 4 else 2**128 - 1):
            points.add((version, last + 1))
    ordered = sorted(points)
    if len(ordered) > MAX_SAMPLES:
        step = len(ordered) / MAX_SAMPLES
        ordered = [ordered[int(i * step)] for i in range(MAX_SAMPLES)]
    return [ipaddress.IPv4Address(v) if ver == 4 else ipaddress.IPv6Address(v) for ver, v in ordered]


async def _tree_networks(
    record: Record, domain: str, resolver: Overlay, seen: set[str] | None = None
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The ip4/ip6 ranges and the `a`/`mx` addresses (with their prefixes) of `record` and of every
    record it includes or redirects to with a macro-free name, read through the resolver's cache
    (the flattening asked these questions already)."""
    seen = set() if seen is None else seen
    found = [m.network for m in record.mechanisms if m.network is not None]
    for mech in record.mechanisms:
        if mech.kind in ("a", "mx") and not mech.has_macros:
            found += await _host_networks(mech, mech.domain or domain, resolver)
    targets = [m.domain for m in record.mechanisms if m.kind == "include" and m.domain]
    if record.redirect is not None:
        targets.append(record.redirect)
    for target in targets:
        name = target.lower().rstrip(".")
        if "%" in name or name in seen:
            continue
        seen.add(name)
        answer = await resolver.query(name, "TXT")
        texts = [t for t in answer.strings if is_spf_record(t)] if answer.ok else []
        if len(texts) == 1:
            found += await _tree_networks(parse(texts[0]).record, name, resolver, seen)
    return found


async def _host_networks(
    mech: Mechanism, target: str, resolver: Overlay
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    hosts = [target]
    if mech.kind == "mx":
        answer = await resolver.query(target, "MX")
        hosts = [mx.exchange for mx in answer.exchanges if mx.exchange not in ("", ".")][:MAX_NAMES]
    found: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for host in hosts:
        for rdtype, prefix in (("A", mech.prefix4), ("AAAA", mech.prefix6)):
            answer = await resolver.query(host, rdtype)
            for address in answer.strings if answer.ok else ():
                try:
                    ip = ipaddress.ip_address(address)
                    found.append(ipaddress.ip_network(f"{ip}/{ip.max_prefixlen if prefix is None else prefix}",
                                                      strict=False))
                except ValueError:
                    continue
    return found


def _networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [m.network for m in parse(text).record.mechanisms if m.network is not None]
