"""Per-address values compiled into TXT records at octet (IPv4) or nibble (IPv6) boundaries.

A client's name under a compiled zone is its address reversed by digit (`%{ir}`: octets for
IPv4, nibbles for IPv6) followed by `in-addr` or `ip6` (`%{v}`). Each node of that tree is a
block of addresses (a /8, /16, /24 or single IPv4 address; a nibble-aligned IPv6 prefix). A
block whose addresses all share one value is one record: the exact name for a single address,
`*.<block>` otherwise. A node whose block is mixed exists (its children do), so an RFC 4592
wildcard below it can no longer fall back to its parent's: it gets `*.<node>` with the value
most of its children share, and only the children that differ get records of their own. So
every client name has an answer and the most specific block wins. A prefix not on a boundary
is cut into the blocks of the next boundary.

The choice of the wildcard's value is optimal per node: a mixed child costs its own records
whatever its parent's wildcard says, and a uniform child costs one record unless it shares it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Interval = tuple[int, int, str]  # first, last address (integers), value


@dataclass(frozen=True)
class Family:
    version: int
    bits: int  # address length
    width: int  # bits per label: an octet or a nibble
    label: str  # what %{v} expands to (RFC 7208 section 7.3)

    @property
    def levels(self) -> int:
        return self.bits // self.width

    def digit(self, value: int) -> str:
        return str(value) if self.version == 4 else format(value, "x")


IPV4 = Family(4, 32, 8, "in-addr")
IPV6 = Family(6, 128, 4, "ip6")
FAMILIES = (IPV4, IPV6)


@dataclass(frozen=True)
class Block:
    """One compiled record: `owner` (relative to the zone's root, `*.` for a wildcard) answers
    `value` for the block of addresses at `first`/`prefixlen` (for a wildcard below a mixed
    node, the part of that block its children do not answer for)."""

    version: int
    first: int
    prefixlen: int
    owner: str
    value: str

    @property
    def wildcard(self) -> bool:
        return self.owner.startswith("*.")


def compile_family(family: Family, intervals: Sequence[Interval], default: str) -> list[Block]:
    """The records giving each address of `family` its value: that of the interval holding it
    (sorted, disjoint), `default` elsewhere."""
    merged = _merge(intervals, default)
    out: list[Block] = []
    _node(family, 0, 0, (), merged, 0, len(merged), default, out)
    return out


def _merge(intervals: Sequence[Interval], default: str) -> list[Interval]:
    """Sorted intervals without the default value, adjacent equal values joined: a block is
    uniform exactly when one merged interval covers it."""
    out: list[Interval] = []
    for first, last, value in sorted(intervals):
        if value == default:
            continue
        if out and out[-1][2] == value and out[-1][1] + 1 == first:
            out[-1] = (out[-1][0], last, value)
        else:
            out.append((first, last, value))
    return out


def owner_name(family: Family, path: tuple[int, ...]) -> str:
    """The node's name below the zone's root: its digits reversed, then the family's label."""
    return ".".join([*(family.digit(d) for d in reversed(path)), family.label])


def _node(
    family: Family, depth: int, start: int, path: tuple[int, ...], intervals: list[Interval], lo: int, hi: int,
    default: str, out: list[Block],
) -> None:
    """Records for the mixed node at `path` (its block starts at `start`); intervals[lo:hi]
    are those that overlap it. The family's root is always treated as mixed: it must exist."""
    child_bits = family.bits - (depth + 1) * family.width
    end = start + (1 << (family.bits - depth * family.width)) - 1
    touched: dict[int, list[int]] = {}  # child digit -> [lo, hi) of the intervals overlapping it
    for k in range(lo, hi):
        first, last, _ = intervals[k]
        for digit in range((max(first, start) - start) >> child_bits, ((min(last, end) - start) >> child_bits) + 1):
            if digit in touched:
                touched[digit][1] = k + 1
            else:
                touched[digit] = [k, k + 1]
    uniform: dict[int, str] = {}
    for digit, (a, b) in touched.items():
        first, last, only = intervals[a]
        child_start = start + (digit << child_bits)
        if b - a == 1 and first <= child_start and child_start + (1 << child_bits) - 1 <= last:
            uniform[digit] = only
    counts = {default: (1 << family.width) - len(touched)}
    for shared in uniform.values():
        counts[shared] = counts.get(shared, 0) + 1
    # Ties go to the default, then to the smallest value: deterministic output.
    rest = min(counts, key=lambda v: (-counts[v], v != default, v))
    out.append(Block(family.version, start, depth * family.width, "*." + owner_name(family, path), rest))
    leaf = depth + 1 == family.levels
    digits = range(1 << family.width) if rest != default else sorted(touched)
    for digit in digits:
        child = (*path, digit)
        child_start = start + (digit << child_bits)
        value = uniform.get(digit, default if digit not in touched else None)
        if value is None:
            a, b = touched[digit]
            _node(family, depth + 1, child_start, child, intervals, a, b, default, out)
        elif value != rest:
            name = owner_name(family, child)
            out.append(Block(family.version, child_start, (depth + 1) * family.width,
                             name if leaf else "*." + name, value))
