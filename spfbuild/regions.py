"""Where the result of a record can change: the address classes of its tree, for sharing results.

`check_host()` of a record depends on the client address only through the ranges its
mechanisms compare it with (ip4/ip6, the addresses of `a` and `mx` with their prefixes, at any
depth below includes and a redirect) and the address family, as long as no name in the tree
comes from a macro and no `ptr` asks the address's own names. Between two consecutive
boundaries of those ranges every address takes the same path through the tree, so the same
terms match, the same lookups and void lookups are counted and the same answers are read: the
result is the same. `SharedResults` (evaluation.py) then computes a record's result once per
class instead of once per address.

A region is computed from the answers the evaluation itself reads, through the same resolver,
with the evaluator's own rules for a term's target name. More boundaries than needed are
harmless (a class is only split); a missing one would not be, so whatever cannot be bounded
(macros, `ptr`, an include loop, a name that might spell a client address) gives no region, and
the caller keys by address.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

from spfbuild.dns import Answer
from spfbuild.intervals import END, V6_BASE
from spfbuild.mechanisms import DNSResolver, literal_target, may_spell_an_address
from spfbuild.recordparse import is_spf_record, parse

__all__ = ["Region", "may_spell_an_address", "region_of"]

Key = tuple[str, str]  # (name, rdtype) as resolvers key their answers


@dataclass(frozen=True)
class Region:
    """The boundaries inside which a record's result cannot change, and every (name, type) whose
    answer it read: the region holds for a resolver that answers those as this one did."""

    # Sorted points of the address line (see spfbuild.intervals); the class of a point is
    # bisect_right(bounds, point), which SharedResults computes once per run of points.
    bounds: tuple[int, ...]
    names: frozenset[Key]


class _Unbounded(Exception):
    """The tree has a term whose result may differ between two addresses of one interval."""


async def region_of(resolver: DNSResolver, name: str) -> Region | None:
    """The region of the record at `name`, or None when its tree cannot be bounded."""
    walk = _Walk(resolver)
    try:
        await walk.record(name, ())
    except _Unbounded:
        return None
    return Region(tuple(sorted(walk.points | {0, V6_BASE, END})), frozenset(walk.names))


class _Walk:
    def __init__(self, resolver: DNSResolver):
        self.resolver = resolver
        self.points: set[int] = set()
        self.names: set[Key] = set()

    async def query(self, name: str, rdtype: str) -> Answer:
        if may_spell_an_address(name):
            # A resolver may answer such a name per client (the self-check answers the names
            # that spell the address it evaluates NXDOMAIN): not the same for a whole interval.
            raise _Unbounded
        self.names.add((name.lower().removesuffix("."), rdtype))
        return await self.resolver.query(name, rdtype)

    async def record(self, name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise _Unbounded  # a loop: the limits end it at a depth that depends on the path
        answer = await self.query(name, "TXT")
        texts = [t for t in answer.strings if is_spf_record(t)]
        if len(texts) != 1:
            return  # temperror, none or permerror: the same for every address
        parsed = parse(texts[0])
        if not parsed.ok:
            return  # permerror for every address
        record, inside = parsed.record, (*path, name)
        for mech in record.mechanisms:
            if mech.kind == "all":
                return  # nothing after `all` is evaluated, and a redirect is ignored (6.1)
            if mech.kind == "ptr" or mech.has_macros:
                raise _Unbounded
            span = mech.span
            if span is not None:
                self._add(span[0], span[1], span[2])
                continue
            target = self._target(mech.domain, name)
            if target is None:
                continue  # no name: no match and a void lookup, for every address
            if mech.kind == "include":
                await self.record(target, inside)
            elif mech.kind == "a":
                await self._hosts([target], mech.prefix4, mech.prefix6)
            elif mech.kind == "mx":
                await self._exchanges(target, mech.prefix4, mech.prefix6)
            elif mech.kind == "exists":
                await self.query(target, "A")  # one answer for every client
        redirect = record.redirect
        if redirect is not None:
            if "%" in redirect:
                raise _Unbounded
            target = self._target(redirect, name)
            if target is not None:
                await self.record(target, inside)

    @staticmethod
    def _target(spec: str | None, domain: str) -> str | None:
        if spec is None:
            return domain
        literal, name = literal_target(spec)
        if not literal:
            raise _Unbounded
        return name

    async def _exchanges(self, target: str, prefix4: int | None, prefix6: int | None) -> None:
        answer = await self.query(target, "MX")
        names = [mx.exchange.lower().removesuffix(".") for mx in answer.exchanges]
        await self._hosts([n for n in names if n and n != "."], prefix4, prefix6)

    async def _hosts(self, names: list[str], prefix4: int | None, prefix6: int | None) -> None:
        # Both families: the evaluator asks the one of each client, and both kinds of client
        # share a region.
        questions = [(n, rdtype) for n in names for rdtype in ("A", "AAAA")]
        answers = await asyncio.gather(*(self.query(n, rdtype) for n, rdtype in questions))
        for (_, rdtype), answer in zip(questions, answers, strict=True):
            prefix = (32 if prefix4 is None else prefix4) if rdtype == "A" else (128 if prefix6 is None else prefix6)
            for text in answer.strings:
                try:
                    network = ipaddress.ip_network(f"{text}/{prefix}", strict=False)
                except ValueError:
                    continue
                self._add(network.version, int(network.network_address), int(network.broadcast_address))

    def _add(self, version: int, first: int, last: int) -> None:
        base = 0 if version == 4 else V6_BASE
        self.points.update((base + first, base + last + 1))
