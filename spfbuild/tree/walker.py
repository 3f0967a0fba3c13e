"""Resolving SPF policy into the graph, breadth first and concurrently, once per name per run.

A walk fetches its root's record, then the records of every include and redirect target, one
level at a time (each level's TXT questions asked together), and resolves each record's `a`,
`mx` and `exists` terms alongside the levels below it. Every name's record and term answers are
one task of the walker, shared by every walk that reaches the name, so a provider included by a
thousand domains is resolved once. A name's resolution asks DNS and nothing else: it never
waits for another name's, so a cycle cannot deadlock, and the walk finds it on the graph.

Nothing here raises for what DNS says: failures are values in the nodes. Tasks are shielded from
a walk's cancellation (another walk may be waiting for them) and never end in an exception that
is not retrieved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection
from dataclasses import replace
from typing import TypeVar

from spfbuild.dns import Answer
from spfbuild.dnsname import name_problem
from spfbuild.mechanisms import MAX_NAMES, DNSResolver
from spfbuild.record import Mechanism, Record
from spfbuild.tree.graph import Graph
from spfbuild.tree.nodes import Fetched, Host, Status, TermLookup, evaluated_terms, fetch, target_name, unpublished

__all__ = ["MAX_DEPTH", "MAX_RECORDS", "Walker", "asks_own_terms"]

MAX_DEPTH = 20  # include/redirect levels resolved below a root; a chain past 10 is over the lookup limit anyway
MAX_RECORDS = 200  # names one walk resolves: bounds DNS work on hostile trees

_T = TypeVar("_T")
_BOTH = frozenset({"ipv4", "ipv6"})


class Walker:
    """Resolves the SPF policy of any number of roots through one resolver into one `Graph`."""

    def __init__(self, resolver: DNSResolver):
        self.resolver = resolver
        self.graph = Graph()
        # Work under way, by name; once done, only its value is kept (a run may hold thousands).
        self._fetching: dict[str, asyncio.Task[Fetched]] = {}  # the TXT answer, the record selected
        self._resolving: dict[str, asyncio.Task[Fetched]] = {}  # the same with its terms resolved
        self._fetched: dict[str, Fetched] = {}  # records selected, until their node is in the graph
        self._exploring: dict[tuple[str, ...], asyncio.Task[None]] = {}  # explore_below, by first level

    async def record(self, name: str) -> Fetched:
        """The record selected at `name` (asks TXT only; its terms may not be resolved)."""
        (found,) = await self._records([name])
        return found

    async def walk(self, domain: str) -> Fetched:
        """The node of `domain` (a valid domain name, lower case, no trailing dot), with every
        record below it resolved into the graph as far as the bounds allow."""
        await self._explore([domain], 0)
        node = self.graph.node(domain)
        assert node is not None
        return node

    async def walk_record(self, domain: str, record: Record) -> Fetched:
        """A root node for `record` as if published at `domain` (not added to the graph by name:
        DNS may hold another record there), with every record below it resolved."""
        return await self.walk_root(unpublished(domain, record))

    async def walk_root(self, root: Fetched) -> Fetched:
        """`walk_record` of the root node `unpublished` made."""
        asking = _asking_terms(root)
        if not asking:  # most composed records: ranges and includes only
            await _all([self.explore_below(root)])
            return root
        terms = _task(_resolve_terms(root.domain, asking, self.resolver))
        try:
            await _all([self.explore_below(root)])
            return replace(root, terms=await terms)
        finally:
            terms.cancel()  # the walk was cancelled: leave no lookups running

    def explore_below(self, root: Fetched) -> asyncio.Task[None]:
        """Start resolving what `walk_root` does below `root` (started early, its walk finds it
        done): roots with the same include and redirect targets have the same tree below them,
        explored once (the task is theirs). The root's own a, mx and exists terms are not asked
        (`asks_own_terms`: its walk asks them)."""
        names = _below(root)
        task = self._exploring.get(names)
        if task is None:
            task = self._exploring[names] = _task(self._explore(list(names), 1))
        return task

    async def _explore(self, level: list[str], depth: int) -> None:
        seen: set[str] = set()
        while level:
            room = MAX_RECORDS - len(seen)
            self._unreached(level[room:], f"more than {MAX_RECORDS} records in one include tree")
            level = level[:room]
            seen.update(level)
            found = await self._records(level)
            for name in level:
                self._node(name)  # its terms are resolved while the next level is fetched
            depth += 1
            named = {t.followed for f in found for t in f.targets}
            following = sorted(n for n in named if n is not None and n not in seen)
            if depth > MAX_DEPTH:
                self._unreached(following, f"includes nested deeper than {MAX_DEPTH}")
                break
            level = following  # sorted: which names survive a cut must not depend on timing
        await _all([task for name in seen if (task := self._node(name)) is not None])

    def _unreached(self, names: list[str], why: str) -> None:
        for name in names:
            if name not in self.graph.nodes:
                self.graph.unreached.setdefault(name, why)

    async def _records(self, names: list[str]) -> list[Fetched]:
        """The record selected at each name, each fetched once per walker."""
        tasks = {name: self._fetch(name) for name in names if self._known(name) is None}
        await _all(tasks.values())
        found = []
        for name in names:
            known = tasks[name].result() if name in tasks else self._known(name)
            assert known is not None  # known before, so in one table or the other still
            found.append(known)
        return found

    def _known(self, name: str) -> Fetched | None:
        return self.graph.node(name) or self._fetched.get(name)

    def _fetch(self, name: str) -> asyncio.Task[Fetched]:
        task = self._fetching.get(name)
        if task is None:
            task = self._fetching[name] = _task(fetch(name, self.resolver))
            task.add_done_callback(lambda done: self._settle(self._fetching, name, done, self._fetched))
        return task

    def _node(self, name: str) -> asyncio.Task[Fetched] | None:
        """The task resolving the node of `name`, started if need be; None once it is in the graph."""
        if name in self.graph.nodes:
            return None
        task = self._resolving.get(name)
        if task is None:
            task = self._resolving[name] = _task(self._resolve(name))
            task.add_done_callback(lambda done: self._settle(self._resolving, name, done, None))
        return task

    @staticmethod
    def _settle(pending: dict[str, asyncio.Task[Fetched]], name: str, done: asyncio.Task[Fetched],
                values: dict[str, Fetched] | None) -> None:
        """Keep a finished task's value, not the task; a failed one stays for its awaiters to see."""
        if done.cancelled() or done.exception() is not None:
            return
        pending.pop(name, None)
        if values is not None and name not in values:
            values[name] = done.result()

    async def _resolve(self, name: str) -> Fetched:
        (fetched,) = await self._records([name])
        node = replace(fetched, terms=await _resolve_terms(fetched.domain, _asking_terms(fetched), self.resolver))
        self.graph.add(node)
        self._fetched.pop(name, None)  # the node holds all of it now
        return node


async def _all(tasks: Collection[asyncio.Task[_T]]) -> None:
    """Wait for `tasks`, shielded from this walk's cancellation (other walks share them); at
    once for those already done: a thousand domains' walks reach the same finished providers."""
    pending = [task for task in tasks if not task.done()]
    if len(pending) == 1:
        await asyncio.shield(pending[0])
    elif pending:
        await asyncio.gather(*(asyncio.shield(task) for task in pending))
    for task in tasks:
        task.result()  # as gather would: a failed task's exception is this walk's


def asks_own_terms(root: Fetched) -> bool:
    """Whether the walk of `root` asks DNS for terms of its own record (a, mx, exists)."""
    return bool(_asking_terms(root))


def _below(root: Fetched) -> tuple[str, ...]:
    """The names of `root`'s include and redirect targets, sorted: the first level of its walk."""
    return tuple(sorted({t.followed for t in root.targets if t.followed is not None}))


def _task(work: Awaitable[_T]) -> asyncio.Task[_T]:
    task = asyncio.ensure_future(work)
    # Whoever awaits the task sees its exception; this only keeps asyncio from reporting it as
    # never retrieved when the run ended first.
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return task


# ---------------------------------------------------------------------- a / mx / exists


def _asking_terms(fetched: Fetched) -> list[Mechanism]:
    """The terms of `fetched`'s record resolved beside its includes: a, mx, exists (and ptr)."""
    if fetched.parsed is None:
        return []
    return [
        t for t in evaluated_terms(fetched.parsed.record)
        if isinstance(t, Mechanism) and t.queries_dns and t.kind != "include"
    ]


async def _resolve_terms(domain: str, terms: list[Mechanism], resolver: DNSResolver) -> tuple[TermLookup, ...]:
    """The lookups of `terms` (`_asking_terms` of the record at `domain`), in order."""
    return tuple(await asyncio.gather(*(_resolve(t, domain, resolver) for t in terms)))


async def _resolve(mechanism: Mechanism, domain: str, resolver: DNSResolver) -> TermLookup:
    if mechanism.kind == "ptr":
        return TermLookup(mechanism, None)  # asks the client's reverse zone: unknown without a client
    target = target_name(mechanism.domain, domain)
    if target is Status.DYNAMIC:
        return TermLookup(mechanism, None)
    if isinstance(target, Status):
        # A receiver finds nothing at a name DNS cannot carry: a void lookup for every client.
        return TermLookup(mechanism, None, void=_BOTH, problem="the target is not a valid domain name")
    if mechanism.kind == "exists":
        answer = await resolver.query(target, "A")  # always A, whatever the client (5.7)
        return TermLookup(mechanism, target, void=_BOTH if answer.is_void else frozenset(),
                          errors=_errors(answer))
    if mechanism.kind == "a":
        host, void, errors = await _host(target, resolver)
        return TermLookup(mechanism, target, hosts=(host,), void=void, errors=errors)
    return await _resolve_mx(mechanism, target, resolver)


async def _host(name: str, resolver: DNSResolver) -> tuple[Host, frozenset[str], tuple[str, ...]]:
    """A host's addresses, the families it is void for, and the temperrors met."""
    v4, v6 = await asyncio.gather(resolver.query(name, "A"), resolver.query(name, "AAAA"))
    void = frozenset(family for family, answer in (("ipv4", v4), ("ipv6", v6)) if answer.is_void)
    return Host(name, v4.strings, v6.strings), void, _errors(v4, v6)


async def _resolve_mx(mechanism: Mechanism, target: str, resolver: DNSResolver) -> TermLookup:
    answer = await resolver.query(target, "MX")
    if answer.is_void or not answer.ok:
        return TermLookup(mechanism, target, void=_BOTH if answer.is_void else frozenset(), errors=_errors(answer))
    names: list[str] = []
    for mx in sorted(answer.exchanges, key=lambda mx: mx.preference):
        name = mx.exchange.lower().removesuffix(".")
        if name not in names:
            names.append(name)
    if len(answer.exchanges) > MAX_NAMES:
        # A receiver stops here with permerror (4.6.4), so the hosts are never asked.
        problem = f"{target} has {len(answer.exchanges)} MX names; the limit is {MAX_NAMES}"
        return TermLookup(mechanism, target, exchanges=tuple(names), problem=problem)
    # A null MX (RFC 7505) or an unusable name has no addresses to ask for.
    usable = [n for n in names if n != "." and name_problem(n) is None]
    found = await asyncio.gather(*(_host(name, resolver) for name in usable))
    errors = tuple(e for _, _, errs in found for e in errs)
    return TermLookup(mechanism, target, exchanges=tuple(names), hosts=tuple(h for h, _, _ in found), errors=errors)


def _errors(*answers: Answer) -> tuple[str, ...]:
    return tuple(a.message for a in answers if a.is_temperror)
