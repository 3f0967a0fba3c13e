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

A block is worth covering only when no more than MAX_EXCEPTIONS gaps of the passed addresses
fall inside it, and a block inside it has no more gaps than it: above the largest such blocks
the writing is only the concatenation of theirs. Each such block's writing depends only on the
addresses inside it, so it is computed from those alone and remembered: the chooser lays out
many candidates whose ranges differ elsewhere, and a provider's ranges come back unchanged in
every domain that uses it.
"""

from __future__ import annotations

import bisect
import functools

from spfbuild.intervals import V6_BASE, AddressSet, Block, blocks_between, covers, meets

MAX_EXCEPTIONS = 24  # a covering term and its exceptions must fit in one chained record together
_FAMILIES = ((4, 0, 32), (6, V6_BASE, 128))  # version, start on the line, address bits
_SHORTEST_EXCEPTION = len("-ip6:::") + 1  # no exception term is shorter, with its space
# No term of a block that is not a single address is shorter (a covering block never is one).
_SHORTEST_TERM = {4: len("ip4:0.0.0.0/1"), 6: len("ip6:::/1")}

Bounds = tuple[int, ...]  # an AddressSet's boundaries (spfbuild.intervals)


def chained_terms(mine: AddressSet, passing: AddressSet, room: int) -> tuple[str, ...]:
    """Terms that, in a chained record, pass every address of `mine` and none outside `passing`
    (which holds `mine`). A covering term and its exceptions come as one string, in order
    (`"-ip4:10.12.1.1 ip4:10.0.0.0/8"`), which must stay together in one record of `room`
    bytes of terms."""
    if len(mine.blocks) <= len(mine.bounds) // 2:
        # Every interval is one block already: a covering block would spend an exception per gap
        # to save a term per interval, no shorter.
        return tuple(b.term() for b in mine.blocks)
    out: list[str] = []
    for version, _, _ in _FAMILIES:
        _walk(out, version, 0, 0, mine.bounds, passing.bounds, room)
    return tuple(out)


def _walk(out: list[str], version: int, first: int, prefixlen: int, mine: Bounds, passing: Bounds,
          room: int) -> None:
    """Append the writing of `mine` within the block to `out`, for a block that may hold more
    than MAX_EXCEPTIONS gaps of `passing` (the whole family at first)."""
    low, high = _span(version, first, prefixlen)
    if not meets(mine, low, high):
        return
    if covers(mine, low, high):
        out.append(Block(version, first, prefixlen).term())
        return
    if prefixlen > 0 and _gap_count(passing, low, high) <= MAX_EXCEPTIONS:
        out += _best(version, first, prefixlen, _clip(mine, low, high), _clip(passing, low, high), room)[1]
        return
    half = 1 << (_bits(version) - prefixlen - 1)
    _walk(out, version, first, prefixlen + 1, mine, passing, room)
    _walk(out, version, first + half, prefixlen + 1, mine, passing, room)


@functools.lru_cache(maxsize=1 << 16)
def _best(version: int, first: int, prefixlen: int, mine: Bounds, passing: Bounds,
          room: int) -> tuple[int, tuple[str, ...]]:
    """(bytes, terms) of the shortest writing of `mine` within the block, `mine` and `passing`
    clipped to the block and holding at most MAX_EXCEPTIONS gaps of `passing` (so the block's
    children qualify too, and the call is remembered by what decides its answer)."""
    if not mine:
        return 0, ()
    low, high = _span(version, first, prefixlen)
    if mine == (low, high + 1):
        term = Block(version, first, prefixlen).term()
        return len(term) + 1, (term,)
    half = 1 << (_bits(version) - prefixlen - 1)
    middle = low + half
    below = _best(version, first, prefixlen + 1, _clip(mine, low, middle - 1), _clip(passing, low, middle - 1),
                  room)
    above = _best(version, first + half, prefixlen + 1, _clip(mine, middle, high), _clip(passing, middle, high),
                  room)
    best = (below[0] + above[0], below[1] + above[1])
    gaps = _gaps(passing, low, high)
    # Even the shortest exceptions, one per gap and then one per block the gaps take, after the
    # shortest term and then this block's own, would not make it shorter: counted before any
    # term is written.
    if _SHORTEST_TERM[version] + 1 + _SHORTEST_EXCEPTION * len(gaps) >= best[0]:
        return best
    count = _block_count(version, gaps)
    if count > MAX_EXCEPTIONS or _SHORTEST_TERM[version] + 1 + _SHORTEST_EXCEPTION * count >= best[0]:
        return best
    term = Block(version, first, prefixlen).term()
    if len(term) + 1 + _SHORTEST_EXCEPTION * count >= best[0]:
        return best
    exceptions = _exception_terms(version, gaps)
    if exceptions is not None:
        covering = " ".join([*exceptions, term])
        if len(covering) + 1 < best[0] and len(covering.encode()) <= room:
            return len(covering) + 1, (covering,)
    return best


def _bits(version: int) -> int:
    return 32 if version == 4 else 128


def _span(version: int, first: int, prefixlen: int) -> tuple[int, int]:
    """The block's inclusive interval on the line."""
    bits = _bits(version)
    start = first + (0 if version == 4 else V6_BASE)
    return start, start + (1 << (bits - prefixlen)) - 1


def _gap_count(bounds: Bounds, first: int, last: int) -> int:
    """How many intervals of `first..last` lie outside the set: one where the span starts
    outside it, and one at each end of an interval inside the span."""
    start = bisect.bisect_right(bounds, first)
    stop = bisect.bisect_right(bounds, last)
    ends = stop // 2 - start // 2  # odd indices (interval ends) in start..stop-1
    return ends + (1 if start % 2 == 0 else 0)


def _clip(bounds: Bounds, first: int, last: int) -> Bounds:
    """The set's boundaries within the inclusive span."""
    start = bisect.bisect_right(bounds, first)
    stop = bisect.bisect_left(bounds, last + 1)
    inside = bounds[start:stop]
    if start % 2 == 1:
        inside = (first, *inside)
    if stop % 2 == 1:
        inside = (*inside, last + 1)
    return inside


def _gaps(clipped: Bounds, first: int, last: int) -> list[tuple[int, int]]:
    """The inclusive intervals of `first..last` outside the set clipped to that span."""
    edges = (first, *clipped, last + 1)
    return [(edges[i], edges[i + 1] - 1) for i in range(0, len(edges), 2) if edges[i] < edges[i + 1]]


def _block_count(version: int, gaps: list[tuple[int, int]]) -> int:
    """How many CIDR blocks the gaps take, counting stopped past MAX_EXCEPTIONS."""
    base = 0 if version == 4 else V6_BASE
    count = 0
    for start, end in gaps:
        for _ in blocks_between(version, start - base, end - base):
            count += 1
            if count > MAX_EXCEPTIONS:
                return count
    return count


def _exception_terms(version: int, gaps: list[tuple[int, int]]) -> list[str] | None:
    """`-ip4:`/`-ip6:` terms for the gaps, or None past MAX_EXCEPTIONS (counted as they come: a
    gap across a large block would take many)."""
    base = 0 if version == 4 else V6_BASE
    terms: list[str] = []
    for first, last in gaps:
        for block in blocks_between(version, first - base, last - base):
            terms.append(f"-{block.term()}")
            if len(terms) > MAX_EXCEPTIONS:
                return None
    return terms
