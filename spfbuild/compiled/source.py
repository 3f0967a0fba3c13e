"""The one place macro compilation reads the flattener's view of a record: the exact result
classes of each segment between kept terms, from the partition (`spfbuild.partition.classes`),
as ranges mode computes them."""

from __future__ import annotations

from dataclasses import dataclass

import netaddr

from spfbuild.intervals import EMPTY, AddressSet
from spfbuild.partition import Claim, classes
from spfbuild.record import Mechanism

TYPE_CHECKING = False
if TYPE_CHECKING:
    from spfbuild.layout import Top


@dataclass(frozen=True)
class Segments:
    """The record as compilation sees it. `decided[i]` holds, per result class, the addresses
    that the flattenable terms before `kept[i]` decide (the last entry: those after every kept
    term, a flattened redirect's included); the sets are disjoint across segments and classes.
    `default` is the result of the addresses none decides, None when a kept redirect decides
    them (`kept_redirect`). `tail` holds the modifiers kept as written."""

    decided: tuple[dict[str, netaddr.IPSet], ...]
    kept: tuple[Mechanism, ...]
    kept_costs: tuple[int, ...]
    default: str | None
    kept_redirect: str | None
    kept_redirect_cost: int
    tail: tuple[str, ...]
    contributors: tuple[tuple[str, netaddr.IPSet], ...]  # each flattened term's label and addresses


def _ipset(addresses: AddressSet) -> netaddr.IPSet:
    """The partition's integer-interval set as the netaddr set compilation works with."""
    return netaddr.IPSet(str(block) for block in addresses.blocks)


def segments(top: Top) -> Segments:
    """The segments of the composed record: every term flattened unless it must be kept."""
    from spfbuild.layout import _default
    from spfbuild.layout import label as _label

    decided = EMPTY
    current: list[Claim] = []
    found: list[dict[str, netaddr.IPSet]] = []
    kept: list[Mechanism] = []
    costs: list[int] = []
    contributors: list[tuple[str, netaddr.IPSet]] = []
    for i, mech in enumerate(top.mechanisms):
        term_set = top.sets[i]
        if i in top.forced or term_set is None:
            segment, decided = classes(current, decided)
            found.append({result: _ipset(a) for result, a in segment.items()})
            kept.append(mech)
            costs.append(top.costs[i])
            current = []
            continue
        current.append(Claim(mech.qualifier.result, term_set.addresses, term_set.origins))
        contributors.append((_label(top.composed[i]), _ipset(term_set.addresses)))
    default = _default(top, current)
    if top.redirect_claims is not None and top.redirect is not None:
        current += top.redirect_claims
        below = EMPTY
        for claim in top.redirect_claims:
            below |= claim.addresses
        contributors.append((f"redirect={top.redirect.value}", _ipset(below)))
    segment, decided = classes(current, decided, skip=default)
    found.append({result: _ipset(a) for result, a in segment.items()})
    kept_redirect = str(top.redirect) if top.redirect is not None and top.redirect_claims is None else None
    return Segments(
        decided=tuple(found), kept=tuple(kept), kept_costs=tuple(costs), default=default,
        kept_redirect=kept_redirect, kept_redirect_cost=top.redirect_cost if kept_redirect else 0,
        tail=tuple(top.tail), contributors=tuple(contributors),
    )
