"""The self-check of a compiled publication: the project's evaluator, resolving every client
name against the compiled zone as a DNS server would (`ServedZone`: exact names, then the RFC
4592 wildcard of the closest encloser), must give every address the declared result, within
RFC 7208's limits.

The declared record is evaluated (limits lifted, as for ranges mode) once per interval between
its own range boundaries, inside which its result cannot change; the compiled publication is
evaluated at every boundary of both sides: each compiled block's first address and the first
address after it, in both families, and the declared side's boundaries. Nothing is sampled.
"""

from __future__ import annotations

import asyncio
import bisect
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from spfbuild.compiled.blocks import FAMILIES
from spfbuild.compiled.build import Compiled
from spfbuild.compiled.source import Segments
from spfbuild.compiled.zone import ServedZone, ZoneResolver
from spfbuild.evaluation import SharedResults, check_points
from spfbuild.intervals import address_of
from spfbuild.mechanisms import DNSResolver
from spfbuild.partition import FlattenError
from spfbuild.record import IPAddress
from spfbuild.selfcheck import LIFTED, AddressView, Overlay, spans_in, tree_spans
from spfbuild.tree import Fetched, Graph

_BITS = {family.version: family.bits for family in FAMILIES}


@dataclass(frozen=True)
class Checked:
    addresses: int  # addresses the compiled side was evaluated at
    max_lookups: int
    max_void_lookups: int


def served_zone(compiled: Compiled) -> ServedZone:
    return ServedZone(compiled.label, dict(compiled.records()))


async def check_compiled(
    root: Fetched, graph: Graph, segments: Segments, compiled: Compiled, resolver: DNSResolver,
    declared: str | None = None, shared: SharedResults | None = None,
) -> Checked:
    """Raise FlattenError naming the first address whose result differs from `declared` (the
    declaration as written; the composed record of `root` when not given); else what was checked.
    `shared` (one per run) shares the declared side's included records' results per address class
    (see `SharedResults`); the compiled side's names are answered by the zone, for it alone."""
    domain = root.domain
    sender = f"postmaster@{domain}"
    original = declared if declared is not None else root.record or ""
    before = Overlay(resolver, {domain: (original,)})
    after = Overlay(resolver, {domain: (compiled.main,)})
    zone = served_zone(compiled)
    spans = [span for found in segments.decided for addresses in found.values() for span in addresses]
    spans += tree_spans(root, graph)
    spans += spans_in(original)
    starts = _points(spans)
    blocks = [(n.version, int(n.network_address), int(n.broadcast_address)) for n in block_networks(compiled)]
    points = sorted(set(starts) | set(_points(blocks)))
    expected, got = await asyncio.gather(
        _evaluate(starts, before, before.view, domain, sender, lifted=True, shared=shared or SharedResults()),
        _evaluate(points, ZoneResolver(zone, after), lambda a: ZoneResolver(zone, AddressView(after, a)), domain,
                  sender, lifted=False, shared=None),
    )
    for point, (result, _, _) in zip(points, got, strict=True):
        want = expected[bisect.bisect_right(starts, point) - 1][0]
        if result != want:
            raise FlattenError(
                f"{domain}: self-check failed: {address_of(*point)} gives {result} with the compiled zone but {want} "
                "as declared; nothing was emitted"
            )
    return Checked(len(points), max(g[1] for g in got), max(g[2] for g in got))


def block_networks(compiled: Compiled) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Every compiled block as a network: where the compiled side's result may change, so the
    points any judge of a compiled publication must evaluate it at (with the declared side's)."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for zone in compiled.zones:
        for b in zone.blocks:
            networks.append(ipaddress.IPv4Network((b.first, b.prefixlen)) if b.version == 4
                            else ipaddress.IPv6Network((b.first, b.prefixlen)))
    return networks


def _points(spans: Iterable[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The start of each family and, per span, its first address and the one after its last."""
    found = {(4, 0), (6, 0)}
    for version, first, last in spans:
        found.add((version, first))
        if last < (1 << _BITS[version]) - 1:
            found.add((version, last + 1))
    return sorted(found)


async def _evaluate(points: list[tuple[int, int]], resolver: DNSResolver, view: Callable[[IPAddress], DNSResolver],
                    domain: str, sender: str, *, lifted: bool,
                    shared: SharedResults | None) -> list[tuple[str, int, int]]:
    limit = LIFTED if lifted else None
    found = await check_points(points, domain, sender, resolver, views=view, max_lookups=limit,
                               max_void_lookups=limit, shared=shared, explain=False, steps=False)
    return [(e.result, e.lookups, e.void_lookups) for e in found]
