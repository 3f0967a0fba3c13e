"""The unattended run behind `spfbuild flatten --state`: plan, guard, then apply.

Every domain is flattened on its own; a domain that fails (DNS temperror, a refused shrink, a
failed self-check or publish) keeps its last good state and published records, and does not
stop the others. Nothing is written or published for a domain until all of its checks pass;
the state advances only after outputs are written and, when publishing, verified by query.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from spfbuild.catalogue import Catalogue
from spfbuild.companions import Companion
from spfbuild.compiled.names import COMPILED_MARK
from spfbuild.config import Config, DomainSpec
from spfbuild.emit import RecordSet, TxtRecord
from spfbuild.failure import DomainFailure, Kind
from spfbuild.flattening import Flattened, flatten_all
from spfbuild.limits import DEFAULT_MAX_SHRINK, DEFAULT_TIMEOUT
from spfbuild.mechanisms import DNSResolver
from spfbuild.publish import (
    Change,
    PublishError,
    PushTarget,
    TsigKey,
    is_noop,
    plan_change,
    read_soa,
    send_update,
    verify,
)
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
    push: PushTarget | None = None
    key: TsigKey | None = None
    timeout: float = DEFAULT_TIMEOUT
    lock_wait: float = 10.0


@dataclass
class Outcome:
    domain: str
    status: str  # "unchanged", "changed", "error"
    lines: list[str] = field(default_factory=list)
    flattened: Flattened | None = None
    kind: Kind = Kind.DATA  # of an error: a DNS or network failure, or a problem in the data
    deleted: set[str] = field(default_factory=set)  # retired names this run deleted from the zone
    added: frozenset[tuple[str, str]] = frozenset()  # (name, type) of companions this run put into the zone
    pushed: bool = False  # this run's push made the zone's companions what the config says

    def fail(self, lines: list[str], kind: Kind) -> None:
        self.status, self.lines, self.kind = "error", lines, kind


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
                                      on_done=on_done)
        outcomes = [_judge(spec, result, state, options) for spec, result in zip(cfg.domains, flattened, strict=True)]
        if options.push is not None and not options.check:
            await asyncio.to_thread(_publish, outcomes, state, options)
        elif options.push is not None:
            await asyncio.to_thread(_detect_drift, outcomes, state, options)
        sets, complete = _record_sets(cfg.domains, outcomes, state)
        if options.check:
            return RunResult(outcomes, sets, complete)
        changed = any(o.status == "changed" for o in outcomes)
        if write_output is not None and sets:
            write_output(sets, changed, frozenset(o.domain for o in outcomes if o.status == "error"))
        new_state = _advance(state, outcomes, options)
        # A run with a failure leaves the state byte-identical unless some domain really advanced.
        failed = any(o.status == "error" for o in outcomes)
        if _differs(state, new_state, ignore_checked=failed):
            save_state(options.state_path, new_state)
        return RunResult(outcomes, sets, complete)


def _judge(spec: DomainSpec, result: Flattened | DomainFailure, state: State, options: CronOptions) -> Outcome:
    if isinstance(result, DomainFailure):
        return Outcome(spec.domain, "error", [result.message], kind=result.kind)
    old = state.domains.get(spec.domain)
    if old is not None and not options.force:
        refused = shrinks(old.sources, result.sources, options.max_shrink)
        if refused:
            lines = [f"{spec.domain}: refused (use --force to accept): {r}" for r in refused]
            return Outcome(spec.domain, "error", lines, result)
    records = result.record_set.records
    companions = managed(result.record_set)
    same = old is not None and old.records == records and _same_companions(old.companions, companions)
    if same and (options.push is None or old is None or old.published == str(options.push)):
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


def _detect_drift(outcomes: list[Outcome], state: State, options: CronOptions) -> None:
    """With --check and --push: a published record that differs from the plan is a change."""
    assert options.push is not None
    for outcome in outcomes:
        if outcome.status != "unchanged" or outcome.flattened is None:
            continue
        try:
            record_set = outcome.flattened.record_set
            change = plan_change(options.push, record_set.records, (), options.timeout, compiled=record_set.compiled)
        except PublishError as exc:
            outcome.fail([f"{outcome.domain}: {exc}"], exc.kind)
            continue
        if not is_noop(change):
            outcome.status = "changed"
            outcome.lines = [f"{outcome.domain}: the published records differ from the intended ones"]


def _publish(outcomes: list[Outcome], state: State, options: CronOptions) -> None:
    target, key = options.push, options.key
    assert target is not None and key is not None
    now = time.time()
    candidates: list[tuple[Outcome, Change]] = []
    in_use = _names_in_use(outcomes, state)
    for outcome in outcomes:
        if outcome.status == "error" or outcome.flattened is None:
            continue
        old = state.domains.get(outcome.domain)
        expired = [r.name for r in (old.retired if old else ())
                   if r.expired(now) and not in_use.get(r.name, set()) - {outcome.domain}]
        try:
            record_set = outcome.flattened.record_set
            change = plan_change(target, record_set.records, expired, options.timeout, compiled=record_set.compiled)
        except PublishError as exc:
            outcome.fail([f"{outcome.domain}: {exc}"], exc.kind)
            continue
        if is_noop(change):
            continue
        if outcome.status == "unchanged":
            outcome.status = "changed"
            drift = change.old_spf != (change.records[0].value,)
            outcome.lines = [f"{outcome.domain}: " + ("republished: the live record differed from the state"
                                                      if drift else "deleted expired chained records")]
        outcome.lines += _deleted_lines(change)
        outcome.deleted |= set(change.delete)
        candidates.append((outcome, change))
    if not candidates:
        return
    try:
        soa = read_soa(target, options.timeout)
        send_update(target, key, [c for _, c in candidates], soa, options.timeout)
        verify(target, [c for _, c in candidates], options.timeout)
    except PublishError as exc:
        for outcome, _ in candidates:
            outcome.fail([f"{outcome.domain}: not published: {exc}"], exc.kind)


def _names_in_use(outcomes: list[Outcome], state: State) -> dict[str, set[str]]:
    """The domains whose records reference each name once this run is done: a compiled zone under
    a shared `flatten.macro_zone` may be retired by one domain while another still uses it."""
    current = {domain: kept.records for domain, kept in state.domains.items()}
    for outcome in outcomes:
        if outcome.status != "error" and outcome.flattened is not None:
            current[outcome.domain] = outcome.flattened.record_set.records
    users: dict[str, set[str]] = {}
    for domain, records in current.items():
        for record in records:
            users.setdefault(record.name, set()).add(domain)
    return users


def _deleted_lines(change: Change) -> list[str]:
    """One line per deleted chained name; a retired compiled zone's thousands of names as one line
    per label."""
    labels: dict[str, int] = {}
    lines = []
    for name in change.delete:
        at = name.find(COMPILED_MARK)
        if change.compiled and at >= 0:
            label = name[at + 1 :]
            labels[label] = labels.get(label, 0) + 1
        else:
            lines.append(f"  deleted {name}")
    return lines + [f"  deleted {count:,} compiled records under {label}" for label, count in labels.items()]


def _record_sets(specs: Sequence[DomainSpec], outcomes: list[Outcome],
                 state: State) -> tuple[list[RecordSet], bool]:
    sets: list[RecordSet] = []
    complete = True
    for spec, outcome in zip(specs, outcomes, strict=True):
        if outcome.status != "error" and outcome.flattened is not None:
            sets.append(outcome.flattened.record_set)
            continue
        old = state.domains.get(spec.domain)
        if old is None:
            complete = False
            continue
        # The last good records stay in the output (a compiled zone's main record names its label).
        companions = tuple(Companion(m.name, m.type, m.value, m.ttl) for m in old.companions)
        sets.append(RecordSet(spec.domain, old.records, compiled=COMPILED_MARK in old.records[0].value,
                              companions=companions))
    return sets, complete


def _advance(state: State, outcomes: list[Outcome], options: CronOptions) -> State:
    now, stamp = time.time(), now_iso()
    domains = dict(state.domains)
    for outcome in outcomes:
        if outcome.status == "error" or outcome.flattened is None:
            continue
        old = domains.get(outcome.domain)
        records = outcome.flattened.record_set.records
        changed = old is None or old.records != records
        domains[outcome.domain] = DomainState(
            records=records,
            sources=outcome.flattened.sources,
            updated=stamp if changed or old is None else old.updated,
            checked=stamp,
            published=str(options.push) if options.push else None,
            retired=_retired(old, records, now, outcome),
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
             outcome: Outcome) -> tuple[Retired, ...]:
    if old is None:
        return ()
    current = {r.name for r in records}
    deleted = outcome.deleted
    kept = [r for r in old.retired if r.name not in current and r.name not in deleted]
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
