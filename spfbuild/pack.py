"""Packing flattened terms into the main record and chained records within a byte budget.

Sizes are TXT RDATA on the wire: each <=255-byte string plus its length byte. Packing is
deterministic and, by default, stable: ranges are grouped by the sender they came from, a group
is kept in one chained record whenever it fits in one, so a change in one provider's ranges
rewrites as few chained records as possible. Dense packing fills every chained record to the
brim, in the same order, for when the stable packing needs more records than the lookup budget
allows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from spfbuild.errors import SPFBuildError
from spfbuild.txt import record_size

VERSION = "v=spf1"
MAX_CHAINS = 40


class PackError(SPFBuildError):
    pass


class OverChains(PackError):
    """The ranges need more chained records than the caller allows (`pack`'s `max_chains`)."""


@dataclass(frozen=True)
class Packed:
    main: tuple[str, ...]  # terms of the main record, without the version
    chains: tuple[tuple[str, ...], ...]  # terms of each chained record

    def main_text(self) -> str:
        return join(self.main)

    def chain_texts(self) -> tuple[str, ...]:
        return tuple(join(c) for c in self.chains)


def join(terms: Sequence[str]) -> str:
    return " ".join([VERSION, *terms])


def size(terms: Sequence[str]) -> int:
    return record_size(join(terms))


def pack(
    groups: Sequence[Sequence[str]],
    before: Sequence[str],
    after: Sequence[str],
    main_budget: int,
    chain_budget: int,
    chain_name: Callable[[int], str],
    *,
    dense: bool = False,
    max_chains: int = MAX_CHAINS,
) -> Packed:
    """Place the pass ranges of `groups` inline in the main record where they fit, the rest in
    as few chained records as possible. `before` terms open the main record, `after` terms
    (policy exceptions, kept terms, `all`, modifiers) close it. `dense` ignores the groups.
    OverChains when that takes more than `max_chains` chained records (the lookups a layout has
    left for them): the packing with more is not worked out."""
    flat = [term for group in groups for term in group]
    if dense:
        groups = [flat]
    # Fewer chained records than the ranges' bytes need cannot hold them: those counts are not
    # tried (the count of none is, for its message when even the kept terms do not fit).
    fewest = max(0, -(-(sum(len(t) + 1 for t in flat) - main_budget) // chain_budget))
    if fewest > 0:
        _attempt(groups, flat, before, after, main_budget, chain_budget, chain_name, 0, measure_only=True)
    for count in range(fewest, min(max_chains, MAX_CHAINS) + 1):
        packed = _attempt(groups, flat, before, after, main_budget, chain_budget, chain_name, count)
        if packed is not None:
            return packed
    if max_chains < MAX_CHAINS:
        raise OverChains(f"the ranges need more than {max_chains} chained records")
    raise PackError(f"the ranges need more than {MAX_CHAINS} chained records")


def _attempt(
    groups: Sequence[Sequence[str]],
    flat: list[str],
    before: Sequence[str],
    after: Sequence[str],
    main_budget: int,
    chain_budget: int,
    chain_name: Callable[[int], str],
    count: int,
    *,
    measure_only: bool = False,
) -> Packed | None:
    """The packing with `count` chained records, or None when the ranges need more; with
    `measure_only`, only the check that the main record's fixed terms fit."""
    includes = [f"include:{chain_name(i)}" for i in range(1, count + 1)]
    base = [*before, *includes, *after]
    if size(base) > main_budget:
        if count == 0:
            raise PackError(
                f"the terms that must stay in the main record need {size(base)} bytes, over its budget of "
                f"{main_budget}"
            )
        raise PackError(f"{count} chained records no longer fit in the main record's budget of {main_budget}")
    if measure_only:
        return None
    inline = _fill(flat, [*before], [*includes, *after], main_budget)
    rest = _regroup(groups, len(inline))
    chains = _chains(rest, chain_budget)
    if len(chains) > count:
        return None
    if len(chains) < count:
        # Fewer chains than include terms: drop the spare includes, which frees room inline.
        return _attempt(groups, flat, before, after, main_budget, chain_budget, chain_name, len(chains))
    return Packed(tuple([*before, *inline, *includes, *after]), tuple(tuple(c) for c in chains))


def _fill(flat: list[str], head: list[str], tail: list[str], budget: int) -> list[str]:
    """The longest prefix of `flat` that fits between `head` and `tail`, up to the first term
    written for chained records only (a covering block after its exceptions, one string with
    spaces: in the main record an exception would decide its address there)."""
    low, high = 0, next((i for i, term in enumerate(flat) if " " in term), len(flat))
    while low < high:  # sizes only grow with more terms: binary search the prefix
        mid = (low + high + 1) // 2
        if size([*head, *flat[:mid], *tail]) <= budget:
            low = mid
        else:
            high = mid - 1
    return flat[:low]


def _regroup(groups: Sequence[Sequence[str]], skip: int) -> list[list[str]]:
    """The groups with their first `skip` terms (placed inline) removed."""
    out: list[list[str]] = []
    for group in groups:
        if skip >= len(group):
            skip -= len(group)
            continue
        out.append(list(group[skip:]))
        skip = 0
    return out


def _chains(groups: list[list[str]], budget: int) -> list[list[str]]:
    # `text` is always join(current): each trial measures one string, not a list joined again.
    chains: list[list[str]] = []
    current: list[str] = []
    text = VERSION
    for group in groups:
        if not group:
            continue
        joined = " ".join(group)
        if current and record_size(f"{text} {joined}") <= budget:
            current += group
            text = f"{text} {joined}"
            continue
        if record_size(f"{VERSION} {joined}") <= budget:
            if current:
                chains.append(current)
            current, text = list(group), f"{VERSION} {joined}"
            continue
        for term in group:  # a group larger than one record spills over several
            if record_size(f"{text} {term}") > budget:
                if not current:
                    raise PackError(f"term {term!r} does not fit in a record of {budget} bytes")
                chains.append(current)
                current, text = [], VERSION
            current.append(term)
            text = f"{text} {term}"
    if current:
        chains.append(current)
    return chains


def pack_offloading(
    groups: Sequence[Sequence[str]],
    after: Sequence[str],
    main_budget: int,
    chain_budget: int,
    chain_name: Callable[[int], str],
) -> Packed:
    """`pack` (dense) for when the main record's closing terms alone are over its budget: runs
    of address terms of one qualifier among them move, largest first and as few as fit, into
    chained records of their own, each referenced in place by an include with that qualifier
    (`-include:` of a record passing exactly those addresses matches, and fails, exactly them;
    any other address is no match there and goes on, as it did past the terms themselves)."""
    runs = sorted(_runs(after), key=lambda run: -size(after[run[0] : run[1]]))
    last: PackError | None = None
    for count in range(1, len(runs) + 1):
        chosen = sorted(runs[:count])
        closing: list[str] = []
        offloaded: list[tuple[str, ...]] = []
        at = 0
        for start, stop in chosen:
            closing += after[at:start]
            qualifier = after[start][0] if after[start][0] in "-~?" else ""
            for chain in _chains([[t.lstrip("+-~?") for t in after[start:stop]]], chain_budget):
                offloaded.append(tuple(chain))
                closing.append(f"{qualifier}include:{chain_name(len(offloaded))}")
            at = stop
        closing += after[at:]
        try:
            packed = pack(groups, [], closing, main_budget, chain_budget, _shifted(chain_name, len(offloaded)),
                          dense=True)
        except PackError as exc:
            last = exc
            continue
        return Packed(packed.main, (*offloaded, *packed.chains))
    raise last or PackError("the terms that must stay in the main record do not fit its budget")


def _shifted(chain_name: Callable[[int], str], shift: int) -> Callable[[int], str]:
    """Names for the pass ranges' chained records, numbered after the `shift` offloaded ones."""
    return lambda n: chain_name(n + shift)


def _runs(terms: Sequence[str]) -> list[tuple[int, int]]:
    """(start, stop) of each run of two or more ip4/ip6 terms with one qualifier."""
    runs: list[tuple[int, int]] = []
    start = 0
    while start < len(terms):
        qualifier = _address_qualifier(terms[start])
        stop = start + 1
        if qualifier is not None:
            while stop < len(terms) and _address_qualifier(terms[stop]) == qualifier:
                stop += 1
            if stop - start >= 2:
                runs.append((start, stop))
        start = stop
    return runs


def _address_qualifier(term: str) -> str | None:
    """The qualifier of an ip4/ip6 term ("" for pass), None for any other term."""
    qualifier = term[0] if term[:1] in ("+", "-", "~", "?") else ""
    bare = term[len(qualifier):]
    return qualifier.replace("+", "") if bare.startswith(("ip4:", "ip6:")) else None
