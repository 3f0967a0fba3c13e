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

from spfbuild.intervals import V6_BASE, AddressSet, Block, blocks_between

MAX_EXCEPTIONS = 24  # a covering term and its exceptions must fit in one chained record together
_FAMILIES = ((4, 0, 32), (6, V6_BASE, 128))  # version, start on the line, address bits
_SHORTEST_EXCEPTION = len("-ip6:::") + 1  # no exception term is shorter, with its space


def chained_terms(mine: AddressSet, passing: AddressSet, room: int) -> tuple[str, ...]:
    """Terms that, in a chained record, pass every address of `mine` and none outside `passing`
    (which holds `mine`). A covering term and its exceptions come as one string, in order
    (`"-ip4:10.12.1.1 ip4:10.0.0.0/8"`), which must stay together in one record of `room`
    bytes of terms."""
    if len(mine.blocks) <= len(mine.bounds) // 2:
        # Every interval is one block already: a covering block would spend an exception per gap
        # to save a term per interval, no shorter (and the search costs time on every layout).
        return tuple(b.term() for b in mine.blocks)
    return _chained(mine, passing, room)


@functools.lru_cache(maxsize=1024)  # layouts of one run ask again for the same sender's ranges
def _chained(mine: AddressSet, passing: AddressSet, room: int) -> tuple[str, ...]:
    out: list[str] = []
    for version, base, bits in _FAMILIES:
        _, terms = _best(Block(version, 0, 0), base, bits, mine, passing, room)
        out += terms
    return tuple(out)


def _best(block: Block, base: int, bits: int, mine: AddressSet, passing: AddressSet,
          room: int) -> tuple[int, list[str]]:
    """(bytes, terms) of the shortest writing of `mine` within `block`."""
    first = base + block.first
    last = first + (1 << (bits - block.prefixlen)) - 1
    if not mine.meets(first, last):
        return 0, []
    if mine.covers(first, last):
        term = block.term()
        return len(term) + 1, [term]
    half = 1 << (bits - block.prefixlen - 1)
    low = _best(Block(block.version, block.first, block.prefixlen + 1), base, bits, mine, passing, room)
    high = _best(Block(block.version, block.first + half, block.prefixlen + 1), base, bits, mine, passing, room)
    best = (low[0] + high[0], low[1] + high[1])
    exceptions = _gaps(passing.bounds, first, last)
    if exceptions is None or block.prefixlen == 0:
        return best
    term = block.term()
    if len(term) + 1 + _SHORTEST_EXCEPTION * len(exceptions) >= best[0]:
        return best  # even the shortest exceptions would not make it shorter
    terms = _exception_terms(block.version, base, exceptions)
    if terms is not None:
        covering = " ".join([*terms, term])
        if len(covering) + 1 < best[0] and len(covering.encode()) <= room:
            return len(covering) + 1, [covering]
    return best


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


def _exception_terms(version: int, base: int, gaps: list[tuple[int, int]]) -> list[str] | None:
    """`-ip4:`/`-ip6:` terms for the gaps, or None past MAX_EXCEPTIONS (counted as they come: a
    gap across a large block would take many)."""
    terms: list[str] = []
    for first, last in gaps:
        for block in blocks_between(version, first - base, last - base):
            terms.append(f"-{block.term()}")
            if len(terms) > MAX_EXCEPTIONS:
                return None
    return terms
