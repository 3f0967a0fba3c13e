"""What an evaluation decides, and the results of included and redirected records shared between
evaluations that see the same DNS.

One record's result for one class of addresses is computed once, however many evaluations (of
however many domains, at however many addresses) reach it. A class is an interval of the
record's region (`spfbuild.regions`), inside which every address gets the same result; a record
whose tree has no region (macros, `ptr`), and a redirect's target, whose explanation may spell
the address, are keyed by address instead.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from spfbuild.intervals import V6_BASE
from spfbuild.mechanisms import Session
from spfbuild.regions import Region, region_of

__all__ = ["Key", "Shared", "SharedResults", "Step", "Verdict"]

Key = tuple[object, ...]


@dataclass(frozen=True)
class Step:
    """A term that decided a record's result: the mechanism that matched, or the redirect."""

    domain: str
    term: str

    def __str__(self) -> str:
        return f"{self.term} in {self.domain}"


@dataclass(frozen=True)
class Verdict:
    """A record's result for the points of a lane. permerror and temperror end the whole
    evaluation wherever they arise (RFC 7208 sections 2.6.6, 2.6.7, 5.2)."""

    result: str
    explanation: str | None = None
    matched: tuple[Step, ...] = ()
    problem: str | None = None

    @property
    def ends_evaluation(self) -> bool:
        return self.result in ("permerror", "temperror")


@dataclass(frozen=True)
class Shared:
    """A sub-evaluation's verdict and what it cost."""

    verdict: Verdict
    lookups: int
    voids: int
    personal: bool  # a macro read the sender or the HELO name
    nesting: int  # how deep below the include or redirect the evaluation went


class SharedResults:
    """The shared results of a run. An entry is exact: the evaluator is deterministic given the
    answers, the class, and (when a macro read them, which `Session.personal` counts) the sender
    and HELO name. It is used only when the lane has room left for the lookups and void lookups it
    cost (past a limit, the record is evaluated for real, to fail where a receiver would; the same
    for nesting, which only evaluations with the limits lifted can exhaust), never
    while tracing, and never stored when the resolver answered from its own records
    (`private_answers`: names whose answers differ between the evaluations sharing it); a region
    is used only by a resolver that has none of the names it read among its own
    (`private_names`)."""

    def __init__(self) -> None:
        self._general: dict[Key, Shared] = {}
        self._personal: dict[Key, Shared] = {}
        self._regions: dict[str, Region | None] = {}
        self._entries: dict[Shared, Shared] = {}
        self._private: set[str] = set()

    async def classes(self, lane: Session, target: str, explain: bool) -> list[tuple[Key, tuple[int, ...]]] | None:
        """The points of `lane` by the key they share the result of `target` under (each class's
        points ascending); None when nothing of `target` is shared: its tree reads records the
        resolver gives for itself alone (a flattening's chained records), so no result of it is
        ever kept, and looking for one would be wasted."""
        if explain:
            return self._exact(lane, target, explain)
        if target in self._private:
            return None
        if target not in self._regions:
            resolver = lane.resolver
            private = getattr(resolver, "private_answers", 0)
            region = await region_of(resolver, target)
            if getattr(resolver, "private_answers", 0) != private:
                self._private.add(target)
                return None
            self._regions[target] = region
        return self._classes(lane, target, self._regions[target])

    def _classes(self, lane: Session, target: str, region: Region | None) -> list[tuple[Key, tuple[int, ...]]]:
        if region is None or not region.names.isdisjoint(getattr(lane.resolver, "private_names", ())):
            return self._exact(lane, target, False)
        base = 0 if lane.version == 4 else V6_BASE
        values, bounds = lane.values, region.bounds
        found: list[tuple[Key, tuple[int, ...]]] = []
        start = 0
        steps, count, last = lane.steps, len(values), len(bounds)
        while start < count:  # a run of points per class: bisecting at class changes only
            index = bisect.bisect_right(bounds, base + values[start])  # the class (Region.bounds)
            end = count if index >= last else bisect.bisect_left(values, bounds[index] - base, start)
            found.append(((target, index, steps), values[start:end]))
            start = end
        return found

    @staticmethod
    def _exact(lane: Session, target: str, explain: bool) -> list[tuple[Key, tuple[int, ...]]]:
        return [((target, lane.version, value, explain, lane.steps), (value,)) for value in lane.values]

    def sort_out(self, lane: Session, classes: list[tuple[Key, tuple[int, ...]]], room: int
                 ) -> tuple[list[tuple[Shared, list[int]]], list[tuple[Key, tuple[int, ...]]]]:
        """The classes whose entry `lane` may use, their points gathered per entry (lanes group by
        identity), and the others. An entry is usable when the lane has room for what it cost
        (`room`: the nesting left)."""
        known: dict[int, tuple[Shared, list[int]]] = {}
        missing: list[tuple[Key, tuple[int, ...]]] = []
        general, personal = self._general, self._personal
        lookups, voids = lane.max_lookups - lane.lookups, lane.max_void_lookups - lane.void_lookups
        for key, values in classes:  # per class of every include of every domain: one loop, no call
            found = general.get(key)
            if found is None and personal:
                found = personal.get((*key, lane.sender, lane.helo))
            if found is None or found.lookups > lookups or found.voids > voids or found.nesting > room:
                missing.append((key, values))
                continue
            group = known.get(id(found))
            if group is None:
                known[id(found)] = (found, [*values])
            else:
                group[1].extend(values)
        return list(known.values()), missing

    def keep(self, lane: Session, key: Key, entry: Shared) -> None:
        entry = self._entries.setdefault(entry, entry)  # one object per value: lanes group by identity
        if entry.personal:
            self._personal[(*key, lane.sender, lane.helo)] = entry
        else:
            self._general[key] = entry
