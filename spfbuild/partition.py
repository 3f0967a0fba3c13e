"""The exact result of an SPF record for every address, as netaddr IPSets.

A record is an ordered list of claims: (result, addresses). An address gets the result of the
first claim that contains it (first match wins), and neutral when none does (RFC 7208 4.7).
`include:` contributes the addresses for which its target's result is pass, so an included
record's `-ip4:` exclusions and its `~all` are honoured; `redirect=` appends its target's
claims when the record has no `all` (6.1).

Terms whose result cannot be known ahead of time (`exists`, `ptr`, macros) make the record
opaque: `Opaque` is raised and the caller keeps that term as it is.
"""

from __future__ import annotations

import asyncio
import bisect
from dataclasses import dataclass, field

import netaddr

from spfbuild.dns import Answer, Resolver
from spfbuild.errors import SPFBuildError
from spfbuild.limits import MAX_MX_NAMES
from spfbuild.record import Mechanism, Record, is_spf_record, parse

FULL = netaddr.IPSet(["0.0.0.0/0", "::/0"])
MAX_DEPTH = 20


class FlattenError(SPFBuildError):
    """The senders' records cannot be flattened (a DNS error, a broken or missing record)."""


class Opaque(Exception):
    def __init__(self, domain: str, term: str):
        super().__init__(f"{term} in {domain}")
        self.domain = domain
        self.term = term


@dataclass(frozen=True)
class Origin:
    """Where a published range came from: the DNS name whose record lists it, and the path of
    includes from the top-level term to it."""

    name: str
    path: tuple[str, ...]


@dataclass
class Claim:
    result: str
    addresses: netaddr.IPSet
    origins: list[tuple[netaddr.IPNetwork, Origin]] = field(default_factory=list)


@dataclass
class Node:
    """A resolved record: its claims in order, its lookup cost (RFC 7208 counting: every
    DNS-querying term of the tree), the DNS names it needs."""

    domain: str
    claims: list[Claim]
    lookups: int


class Resolution:
    """Resolves records into claims once per domain per run; DNS questions go through the
    shared resolver, which asks each (name, type) once."""

    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        self._nodes: dict[str, asyncio.Task[Node]] = {}

    async def node(self, domain: str, path: tuple[str, ...] = ()) -> Node:
        key = domain.lower().rstrip(".")
        if key in path:
            raise FlattenError(f"include loop: {' -> '.join((*path, key))}")
        if len(path) > MAX_DEPTH:
            raise FlattenError(f"includes nested deeper than {MAX_DEPTH} at {key}")
        task = self._nodes.get(key)
        if task is None:
            task = asyncio.ensure_future(self._build(key, (*path, key)))
            self._nodes[key] = task
        return await asyncio.shield(task)

    async def record(self, domain: str) -> Record:
        answer = await self.resolver.query(domain, "TXT")
        if answer.is_temperror:
            raise FlattenError(f"temperror: {answer.message}")
        texts = [t for t in answer.strings if is_spf_record(t)]
        if not texts:
            raise FlattenError(f"{domain} has no SPF record ({answer.outcome.value})")
        if len(texts) > 1:
            raise FlattenError(f"{domain} publishes {len(texts)} SPF records (permerror)")
        parsed = parse(texts[0])
        errors = [d for d in parsed.diagnostics if d.is_error]
        if errors:
            raise FlattenError(f"{domain}: SPF record has a syntax error: {errors[0].message}")
        return parsed.record

    async def _build(self, domain: str, path: tuple[str, ...]) -> Node:
        record = await self.record(domain)
        return await self.claims_of(record, domain, path)

    async def cost(self, domain: str, path: tuple[str, ...] = ()) -> int:
        """Lookups the record at `domain` costs receivers, counted over its whole tree; works for
        opaque records too (a macro target counts 1 and is not followed)."""
        key = domain.lower().rstrip(".")
        if key in path or len(path) > MAX_DEPTH:
            raise FlattenError(f"include loop: {' -> '.join((*path, key))}")
        record = await self.record(key)
        return await self.record_cost(record, (*path, key))

    async def record_cost(self, record: Record, path: tuple[str, ...]) -> int:
        total = 0
        nested: list[str] = []
        for term in record.terms:
            if not term.queries_dns:
                continue
            total += 1
            target = term.domain if isinstance(term, Mechanism) else term.value
            if (isinstance(term, Mechanism) and term.kind != "include") or target is None or "%" in target:
                continue
            if not isinstance(term, Mechanism) and any(m.kind == "all" for m in record.mechanisms):
                continue  # a redirect beside `all` is never followed
            nested.append(target)
        costs = await asyncio.gather(*(self.cost(t, path) for t in nested))
        return total + sum(costs)

    async def claims_of(self, record: Record, domain: str, path: tuple[str, ...]) -> Node:
        """The claims of `record` published at `domain` (which may be a composed, unpublished one)."""
        mechanisms = list(record.mechanisms)
        has_all = any(m.kind == "all" for m in mechanisms)
        if has_all:
            # Terms after `all` are never evaluated.
            mechanisms = mechanisms[: next(i for i, m in enumerate(mechanisms) if m.kind == "all") + 1]
        sets = await asyncio.gather(*(self.term_set(m, domain, path) for m in mechanisms))
        claims = [Claim(m.qualifier.result, s.addresses, s.origins) for m, s in zip(mechanisms, sets, strict=True)]
        lookups = sum(s.lookups for s in sets)
        if record.redirect is not None and not has_all:
            if "%" in record.redirect:
                raise Opaque(domain, f"redirect={record.redirect}")
            target = await self.node(record.redirect, path)
            claims += target.claims
            lookups += 1 + target.lookups
        return Node(domain, claims, lookups)

    async def term_set(self, mech: Mechanism, domain: str, path: tuple[str, ...]) -> TermSet:
        if mech.kind in ("exists", "ptr") or mech.has_macros:
            raise Opaque(domain, str(mech))
        if mech.kind == "all":
            return TermSet(FULL, [], 0)
        if mech.network is not None:
            net = netaddr.IPNetwork(str(mech.network))
            return TermSet(netaddr.IPSet([net]), [(net, Origin(domain, path))], 0)
        target = (mech.domain or domain).lower().rstrip(".")
        if mech.kind == "include":
            node = await self.node(target, path)
            return pass_set(node, 1 + node.lookups)
        if mech.kind == "a":
            nets = await self.host_networks(target, mech)
            return TermSet(netaddr.IPSet(nets), [(n, Origin(target, path)) for n in nets], 1)
        return await self.mx_set(target, mech, path)

    async def mx_set(self, target: str, mech: Mechanism, path: tuple[str, ...]) -> TermSet:
        answer = _checked(await self.resolver.query(target, "MX"))
        hosts = [mx.exchange for mx in answer.exchanges if mx.exchange not in (".", "")]
        if len(hosts) > MAX_MX_NAMES:
            raise FlattenError(f"mx:{target} has {len(hosts)} MX names, over the limit of {MAX_MX_NAMES}")
        found = await asyncio.gather(*(self.host_networks(h, mech) for h in hosts))
        nets = [n for group in found for n in group]
        origins = [(n, Origin(h, path)) for h, group in zip(hosts, found, strict=True) for n in group]
        return TermSet(netaddr.IPSet(nets), origins, 1)

    async def host_networks(self, host: str, mech: Mechanism) -> list[netaddr.IPNetwork]:
        v4, v6 = await asyncio.gather(self.resolver.query(host, "A"), self.resolver.query(host, "AAAA"))
        prefix4 = 32 if mech.prefix4 is None else mech.prefix4
        prefix6 = 128 if mech.prefix6 is None else mech.prefix6
        nets = [netaddr.IPNetwork(f"{a}/{prefix4}").cidr for a in _checked(v4).strings]
        nets += [netaddr.IPNetwork(f"{a}/{prefix6}").cidr for a in _checked(v6).strings]
        return nets


@dataclass
class TermSet:
    addresses: netaddr.IPSet
    origins: list[tuple[netaddr.IPNetwork, Origin]]
    lookups: int


def _checked(answer: Answer) -> Answer:
    if answer.is_temperror:
        raise FlattenError(f"temperror: {answer.message}")
    return answer


def pass_set(node: Node, lookups: int) -> TermSet:
    """Addresses for which the record's result is pass: where an include matches."""
    # What earlier claims decided is tracked rather than what remains: both are exact, but the
    # remainder of a few ranges is the complement of the address space, thousands of blocks.
    decided = netaddr.IPSet()
    passing = netaddr.IPSet()
    origins: list[tuple[netaddr.IPNetwork, Origin]] = []
    for claim in node.claims:
        if claim.result == "pass":
            matched = claim.addresses - decided
            passing |= matched
            origins += _overlapping(claim.origins, matched)
        decided |= claim.addresses
        if decided == FULL:
            break
    return TermSet(passing, origins, lookups)


def classes(
    claims: list[Claim], decided: netaddr.IPSet, skip: str | None = None
) -> tuple[dict[str, netaddr.IPSet], netaddr.IPSet]:
    """Disjoint result classes of `claims` for the addresses not in `decided` (which earlier
    claims decided), and `decided` grown by them. The class of result `skip` is left out (its
    addresses are decided all the same): the default result needs no ranges, and under `-all`
    it is the complement of all the others, thousands of blocks.

    Tracking the decided addresses rather than the undecided complement keeps the sets small."""
    found: dict[str, netaddr.IPSet] = {}
    for claim in claims:
        if claim.result == skip:
            # decided | (claim - decided) is decided | claim; the difference (under `-all`, the
            # complement of every earlier range) is never built.
            decided = decided | claim.addresses
            continue
        matched = claim.addresses - decided
        if matched:
            found[claim.result] = found[claim.result] | matched if claim.result in found else matched
            decided = decided | matched
    return found, decided


def _overlapping(
    origins: list[tuple[netaddr.IPNetwork, Origin]], addresses: netaddr.IPSet
) -> list[tuple[netaddr.IPNetwork, Origin]]:
    """The origins whose network shares an address with `addresses`: each network looked up by
    bisection among the set's ranges (sorted, disjoint), not intersected as a set of its own."""
    if not origins or not addresses:
        return []
    ranges = [(r.version, r.first, r.last) for r in addresses.iter_ipranges()]
    starts = [(version, first) for version, first, _ in ranges]
    found = []
    for net, origin in origins:
        # The last range starting at or before the network's end is the only one that can overlap it.
        index = bisect.bisect_right(starts, (net.version, net.last)) - 1
        if index >= 0 and ranges[index][0] == net.version and ranges[index][2] >= net.first:
            found.append((net, origin))
    return found
