"""Sets of IP addresses as sorted integer intervals: what flattening computes with.

Both families live on one integer line: an IPv4 address is its 32-bit value, an IPv6 address
is 2**32 plus its 128-bit value, so one set holds both and `FULL` is a single interval. A set
is its boundaries, half-open and alternating: `(start, end, start, end, ...)`, strictly
increasing, so equal sets are equal tuples and adjacent intervals are always merged. A union
sorts both sets' intervals and merges them in one pass; intersection and difference are unions
of complements, and a complement is the boundaries with the line's ends toggled.

netaddr and ipaddress are used only at the edges: parsing a network into an interval, and
writing an interval back as the fewest CIDR blocks.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

V6_BASE = 2**32  # where IPv6 addresses start on the line
END = V6_BASE + 2**128  # one past the last IPv6 address

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Block(NamedTuple):
    """One CIDR block: its family (4 or 6), first address (within the family) and prefix length."""

    version: int
    first: int
    prefixlen: int

    @property
    def last(self) -> int:
        return self.first + (1 << (self.bits - self.prefixlen)) - 1

    @property
    def bits(self) -> int:
        return 32 if self.version == 4 else 128

    @property
    def is_host(self) -> bool:
        return self.prefixlen == self.bits

    @property
    def address(self) -> str:
        return str(ipaddress.IPv4Address(self.first) if self.version == 4 else ipaddress.IPv6Address(self.first))

    def term(self) -> str:
        """The block as an SPF ip4/ip6 mechanism, a single address without its prefix."""
        return _term(self)

    def network(self) -> IPNetwork:
        return ipaddress.ip_network(f"{self.address}/{self.prefixlen}")

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass(frozen=True)
class AddressSet:
    bounds: tuple[int, ...] = ()

    # ------------------------------------------------------------------ building

    @classmethod
    def of(cls, spans: Iterable[tuple[int, int]]) -> AddressSet:
        """The union of inclusive `(first, last)` spans on the line, in any order."""
        ordered = sorted(spans)
        out: list[int] = []
        for first, last in ordered:
            if out and first <= out[-1]:
                out[-1] = max(out[-1], last + 1)
            else:
                out += [first, last + 1]
        return cls(tuple(out))

    @classmethod
    def networks(cls, networks: Iterable[IPNetwork]) -> AddressSet:
        return cls.of(span(n) for n in networks)

    @classmethod
    def parse(cls, texts: Iterable[str]) -> AddressSet:
        """From network texts ("192.0.2.0/24", "2001:db8::1"); host bits are ignored."""
        return cls.networks(ipaddress.ip_network(t, strict=False) for t in texts)

    # ------------------------------------------------------------------ algebra

    def __or__(self, other: AddressSet) -> AddressSet:
        if not other.bounds:
            return self
        if not self.bounds:
            return other
        return AddressSet(_union(self.bounds, other.bounds))

    def __and__(self, other: AddressSet) -> AddressSet:
        if not self.bounds or not other.bounds:
            return EMPTY
        return AddressSet(_intersection(self.bounds, other.bounds))

    def __sub__(self, other: AddressSet) -> AddressSet:
        if not self.bounds or not other.bounds:
            return self
        return AddressSet(_intersection(self.bounds, _complement(other.bounds)))

    def __invert__(self) -> AddressSet:
        return AddressSet(_complement(self.bounds))

    def __bool__(self) -> bool:
        return bool(self.bounds)

    def __contains__(self, point: int) -> bool:
        return bisect.bisect_right(self.bounds, point) % 2 == 1

    def covers(self, first: int, last: int) -> bool:
        """Every point of the inclusive span is in the set."""
        return covers(self.bounds, first, last)

    def meets(self, first: int, last: int) -> bool:
        """Some point of the inclusive span is in the set."""
        return meets(self.bounds, first, last)

    # ------------------------------------------------------------------ reading

    def spans(self) -> Iterator[tuple[int, int]]:
        """Inclusive `(first, last)` intervals on the line, split where IPv4 ends."""
        bounds = self.bounds
        for i in range(0, len(bounds), 2):
            start, end = bounds[i], bounds[i + 1]
            if start < V6_BASE < end:
                yield start, V6_BASE - 1
                start = V6_BASE
            yield start, end - 1

    def ranges(self) -> Iterator[tuple[int, int, int]]:
        """`(version, first, last)` per interval, addresses within their family."""
        for first, last in self.spans():
            if first < V6_BASE:
                yield 4, first, last
            else:
                yield 6, first - V6_BASE, last - V6_BASE

    @cached_property
    def blocks(self) -> tuple[Block, ...]:
        """The fewest CIDR blocks covering exactly the set, in address order (IPv4 first)."""
        return tuple(b for version, first, last in self.ranges() for b in _cidrs(version, first, last))

    @property
    def size(self) -> int:
        bounds = self.bounds
        return sum(bounds[i + 1] - bounds[i] for i in range(0, len(bounds), 2))


@functools.lru_cache(maxsize=1 << 16)  # layouts write the same blocks candidate after candidate
def _term(block: Block) -> str:
    kind = "ip4" if block.version == 4 else "ip6"
    return f"{kind}:{block.address}" if block.is_host else f"{kind}:{block.address}/{block.prefixlen}"


EMPTY = AddressSet()
FULL = AddressSet((0, END))


def span(network: IPNetwork) -> tuple[int, int]:
    """A network's inclusive interval on the line."""
    base = 0 if network.version == 4 else V6_BASE
    return base + int(network.network_address), base + int(network.broadcast_address)


def point(address: IPAddress) -> int:
    return int(address) + (0 if address.version == 4 else V6_BASE)


def address_at(value: int) -> IPAddress:
    """The address at a point of the line."""
    return ipaddress.IPv4Address(value) if value < V6_BASE else ipaddress.IPv6Address(value - V6_BASE)


def address_of(version: int, value: int) -> IPAddress:
    """The address of a family given as an integer."""
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def covers(bounds: tuple[int, ...], first: int, last: int) -> bool:
    """Every point of the inclusive span is in the set of boundaries `bounds`."""
    index = bisect.bisect_right(bounds, first)
    return index % 2 == 1 and bounds[index] > last


def meets(bounds: tuple[int, ...], first: int, last: int) -> bool:
    """Some point of the inclusive span is in the set of boundaries `bounds`."""
    index = bisect.bisect_right(bounds, first)
    return index % 2 == 1 or (index < len(bounds) and bounds[index] <= last)


def block_span(block: Block) -> tuple[int, int]:
    base = 0 if block.version == 4 else V6_BASE
    return base + block.first, base + block.last


def _union(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The boundaries of the union: the intervals of both, by start (sorted in C), merged; a
    few intervals are spliced into the other set instead (a term's ranges added to everything
    decided so far)."""
    if min(len(a), len(b)) <= _FEW:
        return _spliced(a, b) if len(a) >= len(b) else _spliced(b, a)
    spans = sorted([*zip(a[::2], a[1::2], strict=True), *zip(b[::2], b[1::2], strict=True)])
    out: list[int] = []
    for start, end in spans:
        if out and start <= out[-1]:
            if end > out[-1]:
                out[-1] = end
        else:
            out += (start, end)
    return tuple(out)


_FEW = 8  # boundaries (four intervals) few enough to splice in one at a time


def _spliced(many: tuple[int, ...], few: tuple[int, ...]) -> tuple[int, ...]:
    """`_union` by inserting each interval of `few` where bisection finds its place in `many`,
    merging the intervals it overlaps or touches."""
    out = many
    for i in range(0, len(few), 2):
        start, end = few[i], few[i + 1]
        low = bisect.bisect_left(out, start)  # out[:low] are below `start`
        high = bisect.bisect_right(out, end)  # out[:high] are at or below `end`
        if low % 2 == 1:  # `start` is inside an interval, or where one ends: join it
            low -= 1
            start = out[low]
        if high % 2 == 1:  # an interval starts at or before `end`: join it
            end = out[high]
            high += 1
        out = (*out[:low], start, end, *out[high:])
    return out


def _intersection(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The boundaries of the points in both: the larger set cut to each interval of the smaller,
    found by bisection (a sender's few ranges against a pool of hundreds cost a few cuts, not a
    sort of both)."""
    if len(a) > len(b):
        a, b = b, a
    out: list[int] = []
    for i in range(0, len(a), 2):
        start, end = a[i], a[i + 1]
        low = bisect.bisect_right(b, start)
        high = bisect.bisect_left(b, end)
        if low % 2 == 1:  # `start` is inside an interval of `b`
            out.append(start)
        out += b[low:high]
        if high % 2 == 1:  # so is the point before `end`
            out.append(end)
    return tuple(out)


def _complement(a: tuple[int, ...]) -> tuple[int, ...]:
    """The boundaries of every point of the line not in `a`."""
    inner = (0, *a, END)
    start = 2 if inner[1] == 0 else 0
    stop = len(inner) - 2 if inner[-2] == END else len(inner)
    return inner[start:stop]


def blocks_between(version: int, first: int, last: int) -> Iterator[Block]:
    """The fewest CIDR blocks covering `first..last` (addresses within the family), in order,
    one at a time: a caller may stop early."""
    return _blocks(version, first, last)


@functools.lru_cache(maxsize=1 << 16)  # candidate layouts and domains split the same intervals again
def _cidrs(version: int, first: int, last: int) -> tuple[Block, ...]:
    return tuple(_blocks(version, first, last))


def _blocks(version: int, first: int, last: int) -> Iterator[Block]:
    """The fewest CIDR blocks covering `first..last` exactly, in order."""
    bits = 32 if version == 4 else 128
    while first <= last:
        # The largest block aligned at `first` that does not pass `last`.
        size = (first & -first).bit_length() - 1 if first else bits
        while first + (1 << size) - 1 > last:
            size -= 1
        yield Block(version, first, bits - size)
        first += 1 << size
