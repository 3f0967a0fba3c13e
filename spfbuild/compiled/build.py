"""The compiled publication of a record: the main record and the zone it sends clients to.

The main record ends with `redirect=%{ir}.%{v}.<label>`: every client asks the name of its own
address, whose record is `v=spf1 +all`, `-all`, `~all` or `?all`. Kept terms that may be
evaluated in another record (not demanded in the record's own text, not naming the domain being
evaluated) at the end of the record move into the zone: an address decided after some of them
gets them, in order, before its result (`v=spf1 include:_spf.crm.example -all`), so every client
spends one lookup on the compiled part. The other kept terms stay in the main record, in order.
An address decided before one of those is moved after it (into the zone) only when the kept
term's match gives that same result; otherwise a qualified include just before the kept term
decides it (`-include:%{ir}.%{v}.f1.<label>`: a zone that passes exactly those addresses). The
label is content-addressed (`_spf-m-<hash>`): a changed partition is a new name, so old and new
zones never mix in caches.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass

import netaddr

from spfbuild.compiled.blocks import FAMILIES, Block, Interval, compile_family
from spfbuild.compiled.names import HASH_LENGTH, LABEL_TEMPLATE, longest_name
from spfbuild.compiled.source import Segments, Spans, union
from spfbuild.limits import MAX_DOMAIN_NAME
from spfbuild.macro import with_domain
from spfbuild.partition import FlattenError
from spfbuild.record import Mechanism

ORDER = ("fail", "softfail", "neutral", "pass")
LETTER = {"fail": "f", "softfail": "s", "neutral": "n", "pass": "p"}
PREFIX = {"fail": "-", "softfail": "~", "neutral": "?", "pass": ""}
ALL = {"pass": "+all", "fail": "-all", "softfail": "~all", "neutral": "?all"}
VALUE = {result: f"v=spf1 {term}" for result, term in ALL.items()}
INSIDE, OUTSIDE = VALUE["pass"], VALUE["fail"]  # a per-class include's zone: match, no match


@dataclass(frozen=True)
class Zone:
    """One compiled zone under the label: the redirect's (`sub` empty) or a per-class include's."""

    sub: str
    result: str | None  # the include's result class; None for the redirect's zone
    blocks: tuple[Block, ...]
    intervals: tuple[tuple[int, Interval], ...]  # (version, interval): the addresses it was compiled from


@dataclass(frozen=True)
class Compiled:
    label: str  # absolute
    main: str  # the main record's text
    zones: tuple[Zone, ...]
    lookups: int  # DNS lookups a receiver spends on the main record, kept terms included

    def root(self, zone: Zone) -> str:
        return f"{zone.sub}.{self.label}" if zone.sub else self.label

    def records(self) -> list[tuple[str, str]]:
        """Every compiled record: absolute owner, value."""
        return [(f"{b.owner}.{self.root(z)}", b.value) for z in self.zones for b in z.blocks]

    @property
    def record_count(self) -> int:
        return sum(len(z.blocks) for z in self.zones)


def compile_segments(segments: Segments, domain: str, base: str, max_records: int) -> Compiled:
    """The main record and its zones for `segments`; refuses over `max_records` records."""
    groups = _place(segments)
    zones: list[Zone] = []
    if segments.kept_redirect is None:
        explanation = _explanation(segments, domain)
        zones.append(_zone("", None, _redirect_values(segments, explanation),
                           _value(segments, len(segments.kept), None, explanation)))
    for (position, result), addresses in sorted(groups.items(), key=lambda g: (g[0][0], ORDER.index(g[0][1]))):
        zones.append(_zone(f"{LETTER[result]}{position + 1}", result, {INSIDE: addresses}, OUTSIDE))
    count = sum(len(z.blocks) for z in zones)
    if count > max_records:
        raise FlattenError(
            f"{domain}: the compiled zone needs {count:,} records, over flatten.macro_max_records ({max_records:,}); "
            f"the blocks that cost most: {_costliest(zones)}"
        )
    digest = hashlib.sha256("\n".join(f"{z.sub}\t{b.owner}\t{b.value}" for z in zones for b in z.blocks).encode())
    label = f"{LABEL_TEMPLATE.format(hash=digest.hexdigest()[:HASH_LENGTH])}.{base}"
    compiled = Compiled(label, "", tuple(zones), 0)
    for zone in zones:
        length = longest_name(compiled.root(zone))
        if length > MAX_DOMAIN_NAME:
            raise FlattenError(f"{domain}: compiled names under {compiled.root(zone)} would be {length} octets "
                               f"long, over {MAX_DOMAIN_NAME}")
    main, lookups = _main(segments, groups, label)
    return Compiled(label, main, tuple(zones), lookups)


def _place(segments: Segments) -> dict[tuple[int, str], Spans]:
    """Where each segment's addresses are decided: (the kept term they must precede, class) for
    those that need a qualified include; those the redirect's zone decides are left out. An
    address moves past a kept term of the main record only if that term's match gives the
    address's own result; the kept terms in the zone come after it there as in the record."""
    kept, count, main = segments.kept, len(segments.kept), segments.zone_from
    groups: dict[tuple[int, str], Spans] = {}
    for index, found in enumerate(segments.decided):
        for result, addresses in found.items():
            position = next((k for k in range(index, main) if not _crossable(kept[k], result)), None)
            if position is None and segments.kept_redirect is not None:
                position = count  # a kept redirect decides whatever reaches it
            if position is None:
                continue
            key = (position, result)
            groups[key] = union((groups[key], addresses)) if key in groups else addresses
    return groups


def _crossable(term: Mechanism, result: str) -> bool:
    """Whether addresses of `result` may be decided after the kept `term` instead of before it:
    its match gives that same result, and it can only match or not match. Its tree was resolved
    and found valid (or flattening was refused); an include whose target a macro names leads to a
    record nobody has seen, which may not exist (permerror)."""
    return term.qualifier.result == result and not (term.kind == "include" and term.has_macros)


def _explanation(segments: Segments, domain: str) -> str | None:
    """The record's exp= modifier as the zone's fail records must carry it. After `redirect=` a
    receiver takes the explanation of the record it was sent to, never the first record's (RFC
    7208 section 6.2); %{d} there would name the client's compiled name, so it is written out."""
    found = next((t for t in segments.tail if t.lower().startswith("exp=")), None)
    return None if found is None else f"exp={with_domain(found[4:], domain)}"


def _redirect_values(segments: Segments, explanation: str | None) -> dict[str, Spans]:
    """The redirect zone's value for each decided address: the zone's kept terms before the
    segment deciding it, then its class. (An address a qualified include decides first never
    reaches the zone; it keeps its own value, which merges best with its neighbours'.)"""
    out: dict[str, Spans] = {}
    for index, found in enumerate(segments.decided):
        for result, addresses in found.items():
            value = _value(segments, index, result, explanation)
            out[value] = union((out[value], addresses)) if value in out else addresses
    return out


def _value(segments: Segments, index: int, result: str | None, explanation: str | None) -> str:
    """The record for an address decided by segment `index` as `result` (None: undecided, the
    default), the zone's kept terms before it first; the explanation where a fail can come out."""
    kept = segments.kept[segments.zone_from : index]
    final = result if result is not None else segments.default
    assert final is not None
    may_fail = final == "fail" or any(term.qualifier.result == "fail" for term in kept)
    return " ".join(["v=spf1", *map(str, kept), ALL[final], *([explanation] if explanation and may_fail else [])])


def _zone(sub: str, result: str | None, sets: dict[str, Spans], default: str) -> Zone:
    """The zone giving each address of `sets` (value -> addresses) its value, `default` elsewhere."""
    by_family: dict[int, list[Interval]] = {4: [], 6: []}
    for value, addresses in sets.items():
        for version, first, last in addresses:
            by_family[version].append((first, last, value))
    blocks: list[Block] = []
    intervals: list[tuple[int, Interval]] = []
    for family in FAMILIES:
        spans = sorted(by_family[family.version])
        blocks += compile_family(family, spans, default)
        intervals += [(family.version, span) for span in spans]
    return Zone(sub, result, tuple(blocks), tuple(intervals))


def _main(segments: Segments, groups: dict[tuple[int, str], Spans], label: str) -> tuple[str, int]:
    terms = ["v=spf1"]
    for position in range(segments.zone_from + 1):
        for result in ORDER:
            if (position, result) in groups:
                terms.append(f"{PREFIX[result]}include:%{{ir}}.%{{v}}.{LETTER[result]}{position + 1}.{label}")
        if position < segments.zone_from:
            terms.append(str(segments.kept[position]))
    terms.append(segments.kept_redirect or f"redirect=%{{ir}}.%{{v}}.{label}")
    terms += segments.tail
    # The most any client spends: every kept term (in the record or in the zone), each
    # qualified include, and the redirect.
    lookups = sum(segments.kept_costs) + len(groups) + (segments.kept_redirect_cost if segments.kept_redirect else 1)
    return " ".join(terms), lookups


def _costliest(zones: list[Zone], count: int = 3) -> str:
    """The address ranges whose blocks take the most records, for the refusal's message."""
    costs: dict[tuple[str, int, int, int], int] = {}
    for zone in zones:
        starts = [(version, span[0]) for version, span in zone.intervals]
        for block in zone.blocks:
            index = bisect.bisect_right(starts, (block.version, block.first)) - 1
            if index < 0:
                continue
            version, (first, last, _) = zone.intervals[index]
            block_last = block.first + (1 << ((32 if block.version == 4 else 128) - block.prefixlen)) - 1
            if version == block.version and first <= block.first and block_last <= last:
                key = (zone.sub, version, first, last)
                costs[key] = costs.get(key, 0) + 1
    top = sorted(costs.items(), key=lambda item: (-item[1], item[0]))[:count]
    return ", ".join(f"{_describe(version, first, last)} ({n:,} records)" for (_, version, first, last), n in top)


def _describe(version: int, first: int, last: int) -> str:
    low, high = netaddr.IPAddress(first, version), netaddr.IPAddress(last, version)
    cidrs = netaddr.iprange_to_cidrs(low, high)
    return str(cidrs[0]) if len(cidrs) == 1 else f"{low}-{high}"
