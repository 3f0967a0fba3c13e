"""The one place macro compilation reads the flattener's view of a record: the exact result
classes of each segment between kept terms, from the partition (`spfbuild.partition.classes`),
as ranges mode computes them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spfbuild.intervals import EMPTY, AddressSet
from spfbuild.partition import Claim, classes
from spfbuild.record import Mechanism

Spans = tuple[tuple[int, int, int], ...]  # (IP version, first, last address): sorted, disjoint

TYPE_CHECKING = False
if TYPE_CHECKING:
    from spfbuild.layout import Top


@dataclass(frozen=True)
class Segments:
    """The record as compilation sees it. `decided[i]` holds, per result class, the addresses
    that the flattenable terms before `kept[i]` decide (the last entry: those after every kept
    term, a flattened redirect's included); the sets are disjoint across segments and classes.
    `default` is the result of the addresses none decides, None when a kept redirect decides
    them (`kept_redirect`). `tail` holds the modifiers kept as written. The kept terms from
    `zone_from` on may be evaluated inside the redirect's zone instead of the main record: none
    must stay in the record's own text or depends on the domain being evaluated."""

    decided: tuple[dict[str, Spans], ...]
    kept: tuple[Mechanism, ...]
    kept_costs: tuple[int, ...]
    default: str | None
    kept_redirect: str | None
    kept_redirect_cost: int
    tail: tuple[str, ...]
    contributors: tuple[tuple[str, Spans], ...]  # each flattened term's label and addresses
    zone_from: int = 0


def segments(top: Top) -> Segments:
    """The segments of the composed record: every term flattened unless it must be kept."""
    from spfbuild.layout import _default
    from spfbuild.layout import label as _label

    decided = EMPTY
    current: list[Claim] = []
    found: list[dict[str, Spans]] = []
    kept: list[Mechanism] = []
    movable: list[bool] = []
    costs: list[int] = []
    contributors: list[tuple[str, Spans]] = []
    for i, mech in enumerate(top.mechanisms):
        term_set = top.sets[i]
        if i in top.forced or term_set is None:
            segment, decided = classes(current, decided)
            found.append(_spans_of(segment))
            kept.append(mech)
            movable.append(i not in top.literal and not mech.names_current_domain)
            costs.append(top.costs[i])
            current = []
            continue
        current.append(Claim(mech.qualifier.result, term_set.addresses, term_set.origins))
        contributors.append((_label(top.composed[i]), spans(term_set.addresses)))
    default = _default(top, current)
    if top.redirect_claims is not None and top.redirect is not None:
        current += top.redirect_claims
        below = EMPTY
        for claim in top.redirect_claims:
            below |= claim.addresses
        contributors.append((f"redirect={top.redirect.value}", spans(below)))
    segment, decided = classes(current, decided, skip=default)
    found.append(_spans_of(segment))
    kept_redirect = str(top.redirect) if top.redirect is not None and top.redirect_claims is None else None
    zone_from = len(kept)
    while kept_redirect is None and zone_from > 0 and movable[zone_from - 1]:
        zone_from -= 1
    return Segments(
        decided=tuple(found), kept=tuple(kept), kept_costs=tuple(costs), default=default,
        kept_redirect=kept_redirect, kept_redirect_cost=top.redirect_cost if kept_redirect else 0,
        tail=tuple(top.tail), contributors=tuple(contributors), zone_from=zone_from,
    )


def spans(addresses: AddressSet) -> Spans:
    """The partition's address set as spans: what compilation works on."""
    return tuple(addresses.ranges())


def _spans_of(found: dict[str, AddressSet]) -> dict[str, Spans]:
    return {result: spans(addresses) for result, addresses in found.items()}


def union(sets: Iterable[Spans]) -> Spans:
    """The union of span sets, merged where they touch."""
    out: list[tuple[int, int, int]] = []
    for version, first, last in sorted(span for spans_ in sets for span in spans_):
        if out and out[-1][0] == version and first <= out[-1][2] + 1:
            out[-1] = (version, out[-1][1], max(out[-1][2], last))
        else:
            out.append((version, first, last))
    return tuple(out)
