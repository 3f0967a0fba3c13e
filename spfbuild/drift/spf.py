"""The SPF comparison of `spfbuild diff`: the declaration and the published records, evaluated
at every range boundary of both sides with the machinery of flatten's self-check.

Every range either side can evaluate (the ip4/ip6 terms and the `a`/`mx` addresses of both
include trees, and the blocks of a compiled zone) bounds the intervals inside which neither
side's result can change, so the first address of each interval stands for all of it: the
comparison is exact, never sampled. The declaration is evaluated with the lookup limits lifted
(its intent, as in the self-check); the published records as a receiver would, within them.

A compiled publication (`redirect=%{ir}.%{v}._spf-m-...`) is resolved through DNS per address,
as receivers resolve it; those evaluations each ask a name of their own, so they run together.
"""

from __future__ import annotations

import asyncio
import bisect
import difflib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from spfbuild.compiled.names import COMPILED_MARK
from spfbuild.drift.model import Difference
from spfbuild.evaluation import Evaluation, SharedResults, check_host, check_hosts
from spfbuild.intervals import END, V6_BASE, IPNetwork, address_at, point
from spfbuild.mechanisms import DNSResolver
from spfbuild.record import IPAddress
from spfbuild.selfcheck import LIFTED, AddressView, Overlay, boundary_addresses, spans_in, tree_spans
from spfbuild.tree import Fetched, Graph

CONCURRENT = 256  # evaluations that ask DNS per address, in flight at once (sockets, for a run)


@dataclass(frozen=True)
class Outcome:
    """One side's result at one address and the term that decided it."""

    result: str
    term: str | None
    problem: str | None


@dataclass(frozen=True)
class Comparison:
    differences: tuple[Difference, ...]
    checked: int  # intervals compared: the boundaries of both sides
    temperror: str | None  # a DNS failure met by either side: nothing can be judged


async def compare(domain: str, declared: str, declared_root: Fetched, published_root: Fetched, graph: Graph,
                  resolver: DNSResolver, shared: SharedResults, blocks: Sequence[IPNetwork] = (),
                  gate: asyncio.Semaphore | None = None) -> Comparison:
    """Compare the declaration (`declared`, resolved into `graph` as `declared_root`) with what
    `domain` publishes (`published_root`); `blocks` are the compiled zone's blocks, where a
    compiled publication's result may change. `gate` bounds the evaluations asking DNS per
    address that are under way at once (one gate for every domain of a run)."""
    # Each side is evaluated at its own boundaries only (its result cannot change between them),
    # then compared at the boundaries of both, as the compiled self-check does.
    declared_at = boundary_addresses((), limit=None, spans=[*spans_in(declared), *tree_spans(declared_root, graph)])
    published_at = boundary_addresses((), blocks, limit=None, spans=tree_spans(published_root, graph))
    compiled = published_root.record is not None and COMPILED_MARK in published_root.record.lower()
    before = Overlay(resolver, {domain: (declared,)})
    after = Overlay(resolver, {})
    was = await _evaluate(declared_at, domain, before, shared, lifted=True, asked=())
    now = await _evaluate(published_at, domain, after, shared, lifted=False, asked=(COMPILED_MARK,),
                          gate=(gate or asyncio.Semaphore(CONCURRENT)) if compiled else None)
    failed = next((o.problem or "temperror" for o in (*was, *now) if o.result == "temperror"), None)
    starts = sorted({point(a) for a in (*declared_at, *published_at)})
    differences = _differences(starts, _spread(declared_at, was, starts), _spread(published_at, now, starts))
    return Comparison(tuple(differences), len(starts), failed)


def _spread(addresses: list[IPAddress], outcomes: list[Outcome], starts: list[int]) -> list[Outcome]:
    """Each start's outcome: that of the last of `addresses` at or before it (both start at 0)."""
    own = [point(a) for a in addresses]
    return [outcomes[bisect.bisect_right(own, start) - 1] for start in starts]


async def _evaluate(addresses: list[IPAddress], domain: str, overlay: Overlay, shared: SharedResults, *,
                    lifted: bool, asked: tuple[str, ...], gate: asyncio.Semaphore | None = None) -> list[Outcome]:
    sender = f"postmaster@{domain}"
    limit = LIFTED if lifted else None

    async def one(address: IPAddress) -> Outcome:
        view = AddressView(overlay, address, asked)
        found = await check_host(address, domain, sender, view, max_lookups=limit, max_void_lookups=limit,
                                 keep_trace=False, shared=shared)
        return Outcome(found.result, deciding_term(found), found.problem)

    if not addresses:
        return []
    if gate is None:  # every answer is the tree's own: one walk for every address (check_hosts)
        found = await check_hosts(addresses, domain, sender, overlay, views=lambda a: AddressView(overlay, a, asked),
                                  max_lookups=limit, max_void_lookups=limit, shared=shared, explain=False)
        return [Outcome(e.result, deciding_term(e), e.problem) for e in found]
    # A compiled publication asks DNS per address (its names): together, a bounded number at a
    # time; the first alone, for anything the walk did not hold.
    first = await one(addresses[0])

    async def gated(address: IPAddress) -> Outcome:
        assert gate is not None
        async with gate:
            return await one(address)

    return [first, *await asyncio.gather(*(gated(a) for a in addresses[1:]))]


def deciding_term(evaluation: Evaluation) -> str | None:
    """The term that decided the result, where it stands, and the includes or redirects that led
    there: `ip4:192.0.2.0/24 in spf.example.net (via include:spf.example.net)`. None when no
    term matched; for permerror and temperror, the problem."""
    if evaluation.problem is not None and evaluation.result in ("permerror", "temperror"):
        return evaluation.problem
    steps = evaluation.matched
    if not steps:
        return None
    last = str(steps[-1])
    return f"{last} (via {', '.join(step.term for step in steps[:-1])})" if len(steps) > 1 else last


def _differences(starts: list[int], was: list[Outcome], now: list[Outcome]) -> list[Difference]:
    """The intervals (each from its start to the next) whose results differ, adjacent ones with
    the same story joined."""
    found: list[tuple[int, int, Outcome, Outcome]] = []
    for index, (before, after) in enumerate(zip(was, now, strict=True)):
        if before.result == after.result:
            continue
        first = starts[index]
        last = (starts[index + 1] if index + 1 < len(starts) else END) - 1
        if found and found[-1][1] + 1 == first and (found[-1][2], found[-1][3]) == (before, after) \
                and first != V6_BASE:
            found[-1] = (found[-1][0], last, before, after)
        else:
            found.append((first, last, before, after))
    return [Difference(describe_range(first, last), before.result, after.result, before.term, after.term)
            for first, last, before, after in found]


def describe_range(first: int, last: int) -> str:
    """An interval of the integer line as people write it: one CIDR block, or `first-last`."""
    low, high = address_at(first), address_at(last)
    blocks = list(ipaddress.summarize_address_range(low, high))
    return str(blocks[0]) if len(blocks) == 1 else f"{low}-{high}"


def record_diff(declared: str, published: str | None) -> tuple[str, ...]:
    """The main record's textual difference, term by term: `- term` only declared, `+ term`
    only published, in the order of each record."""
    if published is None:
        return ()
    lines = difflib.ndiff(declared.split()[1:], published.split()[1:])
    return tuple(line[:1] + " " + line[2:] for line in lines if line[:1] in "+-")
