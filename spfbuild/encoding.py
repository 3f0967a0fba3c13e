"""Compact terms for a chained record's pass ranges: a covering block after its exceptions.

A chained record is reached through `include:`, which matches only where the record passes: an
address the record fails is simply not matched and goes on to the terms after the include, as
if the record did not name it. So inside a chained record `-ip4:10.12.1.1 ip4:10.0.0.0/8`
passes exactly 10.0.0.0/8 without 10.12.1.1, in 2 terms where the fewest exact blocks take 24;
a provider's record of twenty excepted hosts before a /8 flattens into one chained record, not
twenty. (In the main record an exception would decide the address there, which is why only
chained records get these terms.)

The choice is made per CIDR block, bottom up: a block is written as its exact pass ranges, or as
itself after an exception per block of addresses it holds that no range of the record passes,
whichever takes fewer bytes. Covering addresses that other terms of the same records pass costs
nothing, so they are not exceptions.
"""

from __future__ import annotations

import bisect
import functools

from spfbuild.intervals import V6_BASE, AddressSet, Block

MAX_EXCEPTIONS = 24  # a covering term and its exceptions must fit in one chained record together
_FAMILIES = ((4, 0, 32), (6, V6_BASE, 128))  # version, start on the line, address bits


def chained_terms(mine: AddressSet, passing: AddressSet, room: int) -> tuple[str, ...]:
    """Terms that, in a chained record, pass every address of `mine` and none outside `passing`
    (which holds `mine`). A covering term and its exceptions come as one string, in order
    (`"-ip4:10.12.1.1 ip4:10.0.0.0/8"`), which must stay together in one record of `room`
    bytes of terms."""
    return _chained(mine.bounds, passing.bounds, room)


@functools.lru_cache(maxsize=1024)  # layouts of one run ask again for the same sender's ranges
def _chained(mine: tuple[int, ...], passing: tuple[int, ...], room: int) -> tuple[str, ...]:
    out: list[str] = []
    for version, base, bits in _FAMILIES:
        _, terms = _best(Block(version, 0, 0), base, bits, mine, passing, room)
        out += terms
    return tuple(out)


def _best(block: Block, base: int, bits: int, mine: tuple[int, ...], passing: tuple[int, ...],
          room: int) -> tuple[int, list[str]]:
    """(bytes, terms) of the shortest writing of `mine` within `block`."""
    first = base + block.first
    last = first + (1 << (bits - block.prefixlen)) - 1
    if not _meets(mine, first, last):
        return 0, []
    if _covers(mine, first, last):
        term = block.term()
        return len(term) + 1, [term]
    half = 1 << (bits - block.prefixlen - 1)
    low = _best(Block(block.version, block.first, block.prefixlen + 1), base, bits, mine, passing, room)
    high = _best(Block(block.version, block.first + half, block.prefixlen + 1), base, bits, mine, passing, room)
    best = (low[0] + high[0], low[1] + high[1])
    exceptions = _gaps(passing, first, last)
    if exceptions is not None and block.prefixlen > 0:
        terms = [f"-{b.term()}" for b in _exception_blocks(exceptions)]
        if len(terms) <= MAX_EXCEPTIONS:
            covering = " ".join([*terms, block.term()])
            if len(covering) + 1 < best[0] and len(covering.encode()) <= room:
                return len(covering) + 1, [covering]
    return best


def _meets(bounds: tuple[int, ...], first: int, last: int) -> bool:
    index = bisect.bisect_right(bounds, first)
    return index % 2 == 1 or (index < len(bounds) and bounds[index] <= last)


def _covers(bounds: tuple[int, ...], first: int, last: int) -> bool:
    index = bisect.bisect_right(bounds, first)
    return index % 2 == 1 and bounds[index] > last


def _gaps(bounds: tuple[int, ...], first: int, last: int) -> list[tuple[int, int]] | None:
    """The inclusive intervals of `first..last` outside the set `bounds`, or None when there
    are more than MAX_EXCEPTIONS of them (such a block is not worth covering)."""
    gaps: list[tuple[int, int]] = []
    index = bisect.bisect_right(bounds, first)
    at = first
    if index % 2 == 1:  # `first` is inside an interval: the first gap starts at its end
        at = bounds[index]
        index += 1
    while at <= last:  # `index` is even here: bounds[index] is the next interval's start
        end = min(bounds[index] if index < len(bounds) else last + 1, last + 1)
        if end > at:
            gaps.append((at, end - 1))
            if len(gaps) > MAX_EXCEPTIONS:
                return None
        if index + 1 >= len(bounds):
            break
        at = bounds[index + 1]
        index += 2
    return gaps


def _exception_blocks(gaps: list[tuple[int, int]]) -> tuple[Block, ...]:
    return AddressSet.of(gaps).blocks
