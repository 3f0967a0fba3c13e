"""A cron run's publishing, zone by zone: the domains of one zone (on one server, with one key)
go out in one UPDATE (a macro-compiled zone's bulks aside), zones concurrently, and one zone's
failure is that zone's alone: its domains fail and keep their state, the other zones go on.

A zone is planned (`plan_zone`: what each domain's update does, read from the server) before
it is pushed (`push_zone`: sent, then verified by query); what lies between may add to the
plan's `members`, whose changes the same UPDATE then carries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from spfbuild.compiled.names import COMPILED_MARK
from spfbuild.destinations import CONCURRENCY, Placed
from spfbuild.failure import Kind
from spfbuild.outcomes import Outcome
from spfbuild.publish import Change, drift_lines, is_noop, plan_change, send_update, verify, with_companions
from spfbuild.pushserver import PublishError, PushTarget, TsigKey, read_soa

if TYPE_CHECKING:
    from spfbuild.state import State

T = TypeVar("T")


@dataclass
class ZonePlan:
    """One zone's push: its domains and, for each that needs one, the change the UPDATE makes."""

    target: PushTarget
    key: TsigKey
    outcomes: list[Outcome] = field(default_factory=list)  # the zone's domains this run publishes
    members: list[tuple[Outcome, Change]] = field(default_factory=list)  # what the UPDATE does, per domain

    @property
    def changes(self) -> list[Change]:
        return [change for _, change in self.members]


def publish(outcomes: list[Outcome], state: State, targets: Mapping[str, Placed], timeout: float) -> None:
    """Plan, send and verify every zone; a failure marks that zone's changed domains failed."""
    plans = zone_plans(outcomes, targets)
    in_use = names_in_use(outcomes, state)
    now = time.time()

    # Plans for one zone (two keys for it) go one after the other: each UPDATE is guarded by the
    # zone's SOA, which the other would change under it.
    by_zone: dict[PushTarget, list[ZonePlan]] = {}
    for plan in plans:
        by_zone.setdefault(plan.target, []).append(plan)

    def run(zone: list[ZonePlan]) -> None:
        for plan in zone:
            plan_zone(plan, state, in_use, now, timeout)
            push_zone(plan, timeout)

    _each(run, list(by_zone.values()))


def zone_plans(outcomes: list[Outcome], targets: Mapping[str, Placed]) -> list[ZonePlan]:
    """The domains to publish, grouped by (server, zone, key)."""
    plans: dict[Placed, ZonePlan] = {}
    for outcome in outcomes:
        placed = targets.get(outcome.domain)
        if outcome.status == "error" or outcome.flattened is None or placed is None:
            continue
        plans.setdefault(placed, ZonePlan(placed.target, placed.key)).outcomes.append(outcome)
    return list(plans.values())


def plan_zone(plan: ZonePlan, state: State, in_use: Mapping[str, set[str]], now: float, timeout: float) -> None:
    """Each domain's change, read from the zone's server (the first domain alone: a server that
    does not answer it fails the whole zone at once); domains already as intended need none."""

    def read(outcome: Outcome) -> Change | PublishError:
        assert outcome.flattened is not None
        old = state.domains.get(outcome.domain)
        expired = [r.name for r in (old.retired if old else ())
                   if r.expired(now) and not in_use.get(r.name, set()) - {outcome.domain}]
        record_set = outcome.flattened.record_set
        try:
            change = plan_change(plan.target, record_set.records, expired, timeout, compiled=record_set.compiled)
            return with_companions(change, plan.target, record_set.companions, old.owned if old else (), timeout)
        except PublishError as exc:
            return exc

    first = read(plan.outcomes[0])
    if isinstance(first, PublishError) and first.kind is Kind.DNS:
        _fail_zone(plan, first)
        return
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        changes = [first, *pool.map(read, plan.outcomes[1:])]
    for outcome, change in zip(plan.outcomes, changes, strict=True):
        if isinstance(change, PublishError):
            outcome.fail([f"{outcome.domain}: {change}"], change.kind)
        elif not is_noop(change):
            _take(plan, outcome, change)
        else:
            outcome.pushed = True  # the zone holds what the config says, companions included


def _take(plan: ZonePlan, outcome: Outcome, change: Change) -> None:
    if outcome.status == "unchanged":
        outcome.status = "changed"
        outcome.lines = drift_lines(outcome.domain, change, change.old_spf != (change.records[0].value,))
    elif change.companions is not None:  # what the state's report does not say already
        outcome.lines += [line for line in change.companions.lines() if line not in outcome.lines]
    outcome.lines += deleted_lines(change)
    outcome.deleted |= set(change.delete)
    plan.members.append((outcome, change))


def push_zone(plan: ZonePlan, timeout: float) -> None:
    """One UPDATE for the zone, guarded by its SOA, then verified by query."""
    changes = plan.changes
    if not changes:
        return
    try:
        soa = read_soa(plan.target, timeout)
        send_update(plan.target, plan.key, changes, soa, timeout)
        # Each change verified on its own, a few at a time: the first that fails fails the zone.
        _each(lambda change: verify(plan.target, [change], timeout), changes)
    except PublishError as exc:
        for outcome, _ in plan.members:
            outcome.fail([f"{outcome.domain}: not published: {exc}"], exc.kind)
        return
    for outcome, change in plan.members:
        if change.note is not None:
            outcome.warnings.append(change.note)
        outcome.pushed = True
        if change.companions is not None:
            outcome.added = change.companions.added
            outcome.warnings += change.companions.notes


def _fail_zone(plan: ZonePlan, exc: PublishError) -> None:
    plan.members.clear()
    for outcome in plan.outcomes:
        if outcome.status != "error":
            outcome.fail([f"{outcome.domain}: not published: {exc}"], exc.kind)


def detect_drift(outcomes: list[Outcome], state: State, targets: Mapping[str, Placed], timeout: float) -> None:
    """A plan (--check) of published domains: a live record that differs from the plan is a change."""

    def drift(outcome: Outcome) -> None:
        placed = targets.get(outcome.domain)
        if outcome.status != "unchanged" or outcome.flattened is None or placed is None:
            return
        record_set = outcome.flattened.record_set
        old = state.domains.get(outcome.domain)
        try:
            change = plan_change(placed.target, record_set.records, (), timeout, compiled=record_set.compiled)
            change = with_companions(change, placed.target, record_set.companions, old.owned if old else (),
                                     timeout)
        except PublishError as exc:
            outcome.fail([f"{outcome.domain}: {exc}"], exc.kind)
            return
        if not is_noop(change):
            outcome.status = "changed"
            outcome.lines = [f"{outcome.domain}: the published records differ from the intended ones"]

    _each(drift, outcomes)


def _each(work: Callable[[T], None], items: Sequence[T]) -> None:
    """`work` on every item, a few at a time (each talks to a server and waits for it)."""
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(len(items), CONCURRENCY)) as pool:
        list(pool.map(work, items))


def names_in_use(outcomes: list[Outcome], state: State) -> dict[str, set[str]]:
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


def deleted_lines(change: Change) -> list[str]:
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
