"""Merging ip4/ip6 ranges without changing any address's result (order is meaning).

A record is evaluated term by term and the first match decides. A plain `ip4`/`ip6` term's
outcome is known for every client when the record is built; every other mechanism (`include`,
`a`, `mx`, `exists`, `ptr`, anything with macros) depends on the client or on DNS at evaluation
time, so it is a barrier: no range moves across it, in either direction.

Between two barriers, a range may join an earlier range of its qualifier when every range it
passes over has another qualifier and shares no address with it (for addresses of the moved
range those terms never matched; for their own addresses the moved range does not match).
A range that earlier ranges cover entirely is never reached and goes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from spfbuild.record import IPNetwork, Mechanism, Qualifier, Term

T = TypeVar("T")


@dataclass
class _Group:
    """Ranges of one qualifier that end up side by side, each with the item it came from."""

    qualifier: Qualifier
    ranges: list[tuple[IPNetwork, object]]


def merge_ranges(items: Sequence[T], term_of: Callable[[T], Term],
                 build: Callable[[IPNetwork, Qualifier, list[T]], T]) -> list[T]:
    """`items` with their ranges merged where it is exact. `build(network, qualifier, items)`
    makes the item of one merged range from the items whose ranges it covers."""
    out: list[T] = []
    earlier: dict[int, list[IPNetwork]] = {4: [], 6: []}  # collapsed: what earlier ranges decide, barriers or not
    groups: list[_Group] = []  # the ranges since the last barrier, in record order
    for item in items:
        term = term_of(item)
        network = term.network if isinstance(term, Mechanism) else None
        if network is None or not isinstance(term, Mechanism):
            out.extend(_emit(groups, build))
            groups = []
            out.append(item)
            continue
        # Collapsed blocks are maximal, so a range inside their union is inside one of them.
        if any(_within(network, block) for block in earlier[network.version]):
            continue  # never reached: an earlier range decides every one of its addresses
        _place(groups, network, term.qualifier, item)
        blocks = [*earlier[network.version], network]
        # One range is its own collapse (most records hold one or two of their own).
        earlier[network.version] = (blocks if len(blocks) == 1
                                    else list(ipaddress.collapse_addresses(blocks)))  # type: ignore[type-var]
    out.extend(_emit(groups, build))
    return out


def _place(groups: list[_Group], network: IPNetwork, qualifier: Qualifier, item: object) -> None:
    for group in reversed(groups):
        if group.qualifier == qualifier:
            group.ranges.append((network, item))
            return
        if any(_overlap(network, n) for n, _ in group.ranges):
            break  # it would pass a range of another qualifier that decides some of its addresses
    groups.append(_Group(qualifier, [(network, item)]))


def _emit(groups: list[_Group], build: Callable[[IPNetwork, Qualifier, list[T]], T]) -> list[T]:
    out: list[T] = []
    for group in groups:
        for version in (4, 6):
            nets = [n for n, _ in group.ranges if n.version == version]
            if len(nets) == 1:  # nothing to merge with
                mine = [item for n, item in group.ranges if n.version == version]
                out.append(build(nets[0], group.qualifier, mine))  # type: ignore[arg-type]
                continue
            for net in ipaddress.collapse_addresses(nets):  # type: ignore[type-var]
                covered = [item for n, item in group.ranges if _within(n, net)]
                out.append(build(net, group.qualifier, covered))  # type: ignore[arg-type]
    return out


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _overlap(one: IPNetwork, other: IPNetwork) -> bool:
    return one.version == other.version and one.overlaps(other)
