"""The flattener's self-check: the project's own evaluator, run on the original declaration and on
the flattened record set, must give the same result at every range boundary.

The original is evaluated with the lookup limits lifted: its intent is what flattening keeps,
and exceeding the limits is usually why it is being flattened.

Every address is covered: the ranges of both sides (their ip4/ip6 terms, the addresses of their
`a` and `mx` terms, at any depth, read from the resolved graph, and the result classes the
flattener computed) cut the address space into intervals inside which no range begins or ends,
so each side gives one result across an interval; the first address of every interval is
evaluated.

DNS questions that name the sample address itself (`exists:%{i}...`, `ptr`'s reverse lookup and
the names it gives) are answered NXDOMAIN by the self-check instead of being sent: that is what
DNS says for nearly every sample address, both sides see the same answer, and thousands of
one-off questions would otherwise go out, one per address. Every other question is the tree's
own and comes from the resolver's cache.
"""

from __future__ import annotations

import functools
import ipaddress
import weakref
from collections.abc import Iterable

from spfbuild.dns import Answer, Outcome
from spfbuild.emit import RecordSet
from spfbuild.evaluation import SharedResults, check_points
from spfbuild.intervals import END, V6_BASE, AddressSet, address_at, span
from spfbuild.mechanisms import DNSResolver, may_spell_an_address
from spfbuild.partition import FlattenError
from spfbuild.record import IPAddress, Mechanism, prefix_span
from spfbuild.recordparse import parse
from spfbuild.tree import Fetched, Graph, TermLookup

MAX_SAMPLES = 4000
# The declaration's lookup limits when it is evaluated as the reference: its intent, whatever its
# size (a declaration over 10 lookups is what flattening is for).
LIFTED = 10_000


class Overlay:
    """Serves the given TXT records, asks the real resolver (and its cache) for the rest."""

    def __init__(self, base: DNSResolver, records: dict[str, tuple[str, ...]]):
        self.base = base
        self.answers = {
            (key, "TXT"): Answer(key, "TXT", Outcome.OK, values, server="self-check")
            for key, values in ((name.lower().rstrip("."), values) for name, values in records.items())
        }
        self.own = frozenset(self.answers)  # the answers only this overlay gives
        # Answers given from its own records, through it or any of its views: an evaluation that
        # read one is not shared with other domains' (see sharing.SharedResults).
        self.private_answers = 0

    @property
    def private_names(self) -> frozenset[tuple[str, str]]:
        """The (name, type) pairs this overlay answers from its own records (see SharedResults)."""
        return self.own

    def view(self, address: IPAddress) -> AddressView:
        """The overlay as the evaluation of `address` sees it."""
        return AddressView(self, address)

    async def query(self, name: str, rdtype: str) -> Answer:
        return await self.ask((name.lower().rstrip("."), rdtype.upper()), name, rdtype)

    async def ask(self, key: tuple[str, str], name: str, rdtype: str) -> Answer:
        """The answer for `key`, the normal form of (`name`, `rdtype`)."""
        # Thousands of evaluations read the same few answers: each is asked of the resolver once.
        known = self.answers.get(key)
        if known is None:
            known = self.answers[key] = await self.base.query(name, rdtype)
        elif key in self.own:
            self.private_answers += 1
        return known


class AddressView:
    """An overlay as seen by the evaluation of one sample address: questions that name the
    address (or ask its PTR records) are answered NXDOMAIN without being sent, except names
    holding one of `asked` (a compiled zone's mark: its names are meant to be asked per address)."""

    def __init__(self, overlay: Overlay, address: IPAddress, asked: tuple[str, ...] = ()):
        self.overlay = overlay
        self.address = address
        self.asked = asked

    @property
    def private_answers(self) -> int:
        """The overlay's count: answers naming the address are the same for every evaluation of
        that address, so only the overlay's own records make an evaluation private."""
        return self.overlay.private_answers

    @property
    def private_names(self) -> frozenset[tuple[str, str]]:
        return self.overlay.own

    async def query(self, name: str, rdtype: str) -> Answer:
        normal, rdtype_upper = name.lower().rstrip("."), rdtype.upper()
        dotted = f".{normal}."
        if any(mark in dotted for mark in self.asked):
            return await self.overlay.query(name, rdtype)
        if rdtype_upper == "PTR" or (may_spell_an_address(normal)
                                     and any(form in dotted for form in _address_forms(self.address))):
            return Answer(normal, rdtype_upper, Outcome.NXDOMAIN, server="self-check")
        return await self.overlay.ask((normal, rdtype_upper), name, rdtype)


@functools.lru_cache(maxsize=MAX_SAMPLES)  # asked for both sides of each sample address
def _address_forms(ip: IPAddress) -> tuple[str, ...]:
    """The address as macros write it into names (%{i}, %{ir}, %{c}), each between dots."""
    dotted = str(ip).split(".") if ip.version == 4 else list(ip.exploded.replace(":", "").lower())
    forms = {".".join(dotted), ".".join(reversed(dotted)), str(ip).lower()}
    return tuple(f".{form}." for form in forms)


async def self_check(
    root: Fetched, graph: Graph, flattened: RecordSet, resolver: DNSResolver, sets: Iterable[AddressSet],
    shared: SharedResults | None = None, declared: str | None = None,
) -> int:
    """Compare `root` (the original record, as resolved into `graph`) with its flattening. Raise
    FlattenError naming the first address whose result differs; return how many were checked.
    `shared` (one per run) shares the results of included records between both sides and every
    domain of the run: Microsoft 365's record is evaluated once per address, not once per domain."""
    shared = shared or SharedResults()
    domain = root.domain
    # The declaration as written (compose.declare), when given: a rewrite in composing cannot
    # hide from the check, as it could when both sides came out of the composer.
    original = declared if declared is not None else root.record or ""
    before = Overlay(resolver, {domain: (original,)})
    after = Overlay(resolver, {r.name: (r.value,) for r in flattened.records})
    spans = [s for text in (*(r.value for r in flattened.records), original) for s in spans_in(text)]
    points = boundary_points(sets, spans=spans, points=tree_points(root, graph))
    keys = [(4, p) if p < V6_BASE else (6, p - V6_BASE) for p in points]
    sender = f"postmaster@{domain}"
    # Each side in one walk for every address (check_points), one side after the other: the
    # flattened side asks nothing the declared side did not (its chained records are the
    # overlay's own, its kept terms are the declaration's), so nothing waits on the network
    # twice, and no task is made per side.
    was = await check_points(keys, domain, sender, before, views=before.view, max_lookups=LIFTED,
                             max_void_lookups=LIFTED, shared=shared, explain=False, steps=False)
    now = await check_points(keys, domain, sender, after, views=after.view, shared=shared, explain=False,
                             steps=False)
    for point, old, new in zip(points, was, now, strict=True):
        if old.result != new.result:
            raise FlattenError(
                f"{domain}: self-check failed: {address_at(point)} gives {new.result} after flattening but "
                f"{old.result} before; nothing was emitted"
            )
    return len(points)


def boundary_addresses(
    sets: Iterable[AddressSet], networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
    limit: int | None = MAX_SAMPLES, spans: Iterable[tuple[int, int, int]] = (),
) -> list[IPAddress]:
    """The addresses of `boundary_points`."""
    return [address_at(p) for p in boundary_points(sets, networks, limit, spans)]


def boundary_points(
    sets: Iterable[AddressSet], networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
    limit: int | None = MAX_SAMPLES, spans: Iterable[tuple[int, int, int]] = (), points: Iterable[int] = (),
) -> list[int]:
    """The first point (of the line, spfbuild.intervals) of each interval between consecutive
    range boundaries, ascending: the start of each address family, and every address where a
    range of `sets`, one of `networks` or one of `spans` ((version, first, last), as
    `Mechanism.span`) begins or just after one ends, and `points` (such boundaries already on
    the line, as `tree_points` gives); more than `limit` are sampled evenly (None: never)."""
    found: set[int] = {0, V6_BASE, *points}
    for addresses in sets:
        found.update(addresses.bounds)
    for network in networks:
        first, last = span(network)
        found.update((first, last + 1))
    found.update(_span_points(spans))
    found.discard(END)
    ordered = sorted(found)
    if limit is not None and len(ordered) > limit:
        step = len(ordered) / limit
        ordered = [ordered[int(i * step)] for i in range(limit)]
    return ordered


def tree_spans(root: Fetched, graph: Graph) -> list[tuple[int, int, int]]:
    """The (version, first, last) of the ip4/ip6 ranges and of the `a`/`mx` addresses (with their
    prefixes) that `root`'s record and every record below it evaluate, read from the resolved
    graph (no DNS); integers, as `Mechanism.span`, with no network object made."""
    return [found for node in graph.reachable(root) for found in _node_spans(node)]


# A settled node's tree never changes for the rest of the run (Graph.settled): its boundary points
# are read once per graph, not once per domain that includes it (a provider's 100 ranges for each
# of 1,000 client domains). Kept beside the graph, not in it: the graph knows no address.
_SETTLED_POINTS: weakref.WeakKeyDictionary[Graph, dict[str, tuple[Fetched, frozenset[int]]]] = (
    weakref.WeakKeyDictionary())


def tree_points(root: Fetched, graph: Graph) -> set[int]:
    """The boundary points (as `boundary_points` takes them) of `tree_spans(root, graph)`."""
    settled = _SETTLED_POINTS.setdefault(graph, {})
    found: set[int] = set()

    def whole(node: Fetched) -> bool:  # a provider tree read whole, from what it left the first time
        return node is not root and graph.settled(node)

    for node in graph.reachable(root, stop=whole):
        if not whole(node):
            found.update(_span_points(_node_spans(node)))
            continue
        known = settled.get(node.domain)
        if known is None or known[0] is not node:
            known = settled[node.domain] = node, frozenset(
                _span_points(s for below in graph.reachable(node) for s in _node_spans(below)))
        found |= known[1]
    return found


def _node_spans(node: Fetched) -> list[tuple[int, int, int]]:
    """The spans `node`'s own record evaluates (`tree_spans` of one node)."""
    found: list[tuple[int, int, int]] = []
    for term, answer in node.evaluated:
        if not isinstance(term, Mechanism):
            continue
        if term.span is not None:
            found.append(term.span)
        elif isinstance(answer, TermLookup):
            found += _host_spans(term, answer)
    return found


def _span_points(spans: Iterable[tuple[int, int, int]]) -> Iterable[int]:
    """Where each (version, first, last) span begins and just after it ends, on the line."""
    for version, low, high in spans:
        base = 0 if version == 4 else V6_BASE
        yield base + low
        yield base + high + 1


def _host_spans(mech: Mechanism, lookup: TermLookup) -> list[tuple[int, int, int]]:
    found: list[tuple[int, int, int]] = []
    for host in lookup.hosts:
        for addresses, prefix in ((host.ipv4, mech.prefix4), (host.ipv6, mech.prefix6)):
            for address in addresses:
                try:
                    found.append(prefix_span(ipaddress.ip_address(address), prefix))
                except ValueError:
                    continue
    return found


def spans_in(text: str) -> list[tuple[int, int, int]]:
    """The (version, first, last) of the ip4/ip6 terms of the record `text` (`Mechanism.span`)."""
    return [m.span for m in parse(text).record.mechanisms if m.span is not None]
