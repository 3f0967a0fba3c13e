"""The unattended run behind `spfbuild flatten --state`: plan, guard, then apply.

Every domain is flattened on its own; a domain that fails (DNS temperror, a refused shrink, a
failed self-check or publish) keeps its last good state and published records, and does not
stop the others. Nothing is written or published for a domain until all of its checks pass;
the state advances only after outputs are written and, when publishing, verified by query.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from spfbuild.catalogue import Catalogue
from spfbuild.companions import Companion
from spfbuild.compiled.names import COMPILED_MARK
from spfbuild.config import Config, DomainSpec
from spfbuild.destinations import Destination, Placed, place
from spfbuild.emit import RecordSet, TxtRecord
from spfbuild.failure import DomainFailure
from spfbuild.flattening import Flattened, flatten_all
from spfbuild.limits import DEFAULT_MAX_SHRINK, DEFAULT_TIMEOUT
from spfbuild.mechanisms import DNSResolver
from spfbuild.outcomes import Outcome
from spfbuild.pushing import detect_drift, publish
from spfbuild.pushserver import PublishError
from spfbuild.state import (
    DomainState,
    Managed,
    Retired,
    State,
    change_report,
    companion_report,
    load_state,
    locked,
    now_iso,
    save_state,
    shrinks,
)


@dataclass(frozen=True)
class CronOptions:
    state_path: Path
    check: bool = False
    force: bool = False
    max_shrink: float = DEFAULT_MAX_SHRINK
    publish: Mapping[str, Destination] = field(default_factory=dict)  # domain -> where to publish it
    timeout: float = DEFAULT_TIMEOUT
    lock_wait: float = 10.0
    jobs: int = 1  # processes sharing the computing (spfbuild.flattening.flatten_all)


@dataclass
class RunResult:
    outcomes: list[Outcome]
    record_sets: list[RecordSet]  # what the output file should hold (last good for failed domains)
    output_complete: bool  # every domain has records to write

    @property
    def changed(self) -> bool:
        return any(o.status == "changed" for o in self.outcomes)

    @property
    def failed(self) -> bool:
        return any(o.status == "error" for o in self.outcomes)

    @property
    def failures(self) -> list[DomainFailure]:
        return [DomainFailure(o.domain, "; ".join(o.lines), o.kind) for o in self.outcomes if o.status == "error"]


async def run(
    cfg: Config, catalogue: Catalogue, resolver: DNSResolver, options: CronOptions,
    write_output: Callable[[Sequence[RecordSet], bool, frozenset[str]], None] | None = None,
    on_done: Callable[[], None] | None = None,
) -> RunResult:
    """The cron run. `write_output(sets, changed, failed)` writes the outputs: `sets` holds the
    last good records of the `failed` domains, for a file that holds every domain."""
    with locked(options.state_path, options.lock_wait, create=not options.check):
        state = load_state(options.state_path)
        # Always the names a push would publish, so a plan without --push reports no false change.
        flattened = await flatten_all(cfg.domains, catalogue, resolver, content_addressed=True,
                                      on_done=on_done, jobs=options.jobs)
        placed = await asyncio.to_thread(place, options.publish, options.timeout) if options.publish else {}
        targets = {d: p for d, p in placed.items() if isinstance(p, Placed)}
        outcomes = [_judge(spec, result, state, options, placed.get(spec.domain))
                    for spec, result in zip(cfg.domains, flattened, strict=True)]
        if targets and not options.check:
            await asyncio.to_thread(publish, outcomes, state, targets, options.timeout)
        elif targets:
            await asyncio.to_thread(detect_drift, outcomes, state, targets, options.timeout)
        now = time.time()
        _note_expired(outcomes, state, targets, now)
        new_state = _advance(state, outcomes, targets, now)
        sets, complete = _record_sets(cfg.domains, outcomes, state, new_state, now)
        if options.check:
            return RunResult(outcomes, sets, complete)
        changed = any(o.status == "changed" for o in outcomes)
        if write_output is not None and sets:
            write_output(sets, changed, frozenset(o.domain for o in outcomes if o.status == "error"))
        # A run with a failure leaves the state byte-identical unless some domain really advanced.
        failed = any(o.status == "error" for o in outcomes)
        if _differs(state, new_state, ignore_checked=failed):
            save_state(options.state_path, new_state)
        return RunResult(outcomes, sets, complete)


def _judge(spec: DomainSpec, result: Flattened | DomainFailure, state: State, options: CronOptions,
           placed: Placed | PublishError | None) -> Outcome:
    if isinstance(result, DomainFailure):
        return Outcome(spec.domain, "error", [result.message], kind=result.kind)
    if isinstance(placed, PublishError):
        return Outcome(spec.domain, "error", [f"{spec.domain}: not published: {placed}"], result, placed.kind)
    old = state.domains.get(spec.domain)
    if old is not None and not options.force:
        refused = shrinks(old.sources, result.sources, options.max_shrink)
        if refused:
            lines = [f"{spec.domain}: refused (use --force to accept): {r}" for r in refused]
            return Outcome(spec.domain, "error", lines, result)
    records = result.record_set.records
    companions = managed(result.record_set)
    same = old is not None and old.records == records and _same_companions(old.companions, companions)
    if same and (placed is None or old is None or old.published == str(placed.target)):
        return Outcome(spec.domain, "unchanged", [], result)
    if result.compiled is not None:  # thousands of compiled names: the report names their label
        report = change_report(spec.domain, old, records[:1], result.sources)
        report.append(f"  compiled zone {result.compiled.compiled.label}: {len(records) - 1:,} records")
        return Outcome(spec.domain, "changed", report + companion_report(old, companions), result)
    return Outcome(spec.domain, "changed", change_report(spec.domain, old, records, result.sources, companions),
                   result)


def managed(record_set: RecordSet) -> tuple[Managed, ...]:
    """The record set's DKIM and DMARC records as the state keeps them."""
    return tuple(Managed(c.name, c.type, c.value, c.ttl) for c in record_set.companions)


def _same_companions(old: Sequence[Managed], new: Sequence[Managed]) -> bool:
    return [m.key for m in old] == [m.key for m in new]


def _note_expired(outcomes: list[Outcome], state: State, targets: Mapping[str, Placed], now: float) -> None:
    """A domain not pushed whose retired chained records' TTL has passed: they leave its outputs."""
    for outcome in outcomes:
        old = state.domains.get(outcome.domain)
        if outcome.status == "error" or outcome.domain in targets or old is None or old.published is not None:
            continue  # a pushed domain's retired records leave when the push deletes them
        expired = [r.name for r in old.retired if r.expired(now)]
        if expired and outcome.status == "unchanged":
            outcome.status, outcome.lines = "changed", [f"{outcome.domain}: expired chained records leave the output"]
        outcome.lines += [f"  dropped {name} (its TTL has passed)" for name in expired]


def _record_sets(specs: Sequence[DomainSpec], outcomes: list[Outcome], state: State, new_state: State,
                 now: float) -> tuple[list[RecordSet], bool]:
    """What the outputs hold: each domain's records, then its retired chained records whose TTL
    has not passed (caches may still follow them: an octoDNS sync must not delete them yet)."""
    sets: list[RecordSet] = []
    complete = True
    for spec, outcome in zip(specs, outcomes, strict=True):
        if outcome.status != "error" and outcome.flattened is not None:
            record_set = outcome.flattened.record_set
            lingering = _lingering(new_state.domains.get(spec.domain), now)
            sets.append(replace(record_set, records=record_set.records + lingering) if lingering else record_set)
            continue
        old = state.domains.get(spec.domain)
        if old is None:
            complete = False
            continue
        # The last good records stay in the output (a compiled zone's main record names its label).
        companions = tuple(Companion(m.name, m.type, m.value, m.ttl) for m in old.companions)
        sets.append(RecordSet(spec.domain, old.records + _lingering(old, now),
                              compiled=COMPILED_MARK in old.records[0].value, companions=companions))
    return sets, complete


def _lingering(kept: DomainState | None, now: float) -> tuple[TxtRecord, ...]:
    if kept is None:
        return ()
    return tuple(TxtRecord(r.name, r.value, r.ttl) for r in kept.retired if not r.expired(now))


def _advance(state: State, outcomes: list[Outcome], targets: Mapping[str, Placed], now: float) -> State:
    stamp = now_iso()
    domains = dict(state.domains)
    for outcome in outcomes:
        if outcome.status == "error" or outcome.flattened is None:
            continue
        old = domains.get(outcome.domain)
        records = outcome.flattened.record_set.records
        changed = old is None or old.records != records
        pushed = outcome.domain in targets
        domains[outcome.domain] = DomainState(
            records=records,
            sources=outcome.flattened.sources,
            updated=stamp if changed or old is None else old.updated,
            checked=stamp,
            published=str(targets[outcome.domain].target) if pushed else None,
            retired=_retired(old, records, now, outcome, pushed=pushed or (old is not None and bool(old.published))),
            **_companion_state(old, outcome),
        )
    return replace(state, domains=domains)


def _companion_state(old: DomainState | None, outcome: Outcome) -> dict[str, tuple[Managed, ...]]:
    """The domain's companions for the state: which of them spfbuild added to the zone (this run
    or before), and those it added that the config dropped, until a push deletes them."""
    assert outcome.flattened is not None
    before = (*old.companions, *old.dropped) if old else ()
    ours = {(m.name, m.type) for m in before if m.created} | outcome.added
    companions = tuple(replace(m, created=(m.name, m.type) in ours) for m in managed(outcome.flattened.record_set))
    current = {(m.name, m.type) for m in companions}
    dropped = {} if outcome.pushed else {
        (m.name, m.type): m for m in before if m.created and (m.name, m.type) not in current}
    return {"companions": companions, "dropped": tuple(dropped.values())}


def _retired(old: DomainState | None, records: tuple[TxtRecord, ...], now: float,
             outcome: Outcome, *, pushed: bool) -> tuple[Retired, ...]:
    """The chained records no longer referenced: a push deletes them from the zone once their TTL
    has passed; without one, they are forgotten then (they have left the outputs)."""
    if old is None:
        return ()
    current = {r.name for r in records}
    deleted = outcome.deleted
    kept = [r for r in old.retired if r.name not in current and r.name not in deleted
            and (pushed or not r.expired(now))]
    known = {r.name for r in kept}
    fresh = [Retired(r.name, r.value, now, r.ttl) for r in old.records[1:]
             if r.name not in current and r.name not in known]
    return tuple(kept + fresh)


def _differs(old: State, new: State, *, ignore_checked: bool) -> bool:
    if not ignore_checked:
        return old.to_json() != new.to_json()

    def strip(state: State) -> str:
        return State({d: replace(s, checked="") for d, s in state.domains.items()}).to_json()

    return strip(old) != strip(new)
