"""What a macro-compiled flattening reports: the JSON summary and the --explain lines (which
senders each block came from)."""

from __future__ import annotations

import bisect

from spfbuild.compiled import Publication
from spfbuild.compiled.blocks import FAMILIES
from spfbuild.compiled.build import ALL, INSIDE, Zone
from spfbuild.txt import rdata_size, split_strings

_CLASS_OF = {term: result for result, term in ALL.items()}
_BITS = {family.version: family.bits for family in FAMILIES}


def summary(publication: Publication) -> dict[str, object]:
    """records, bytes, lookups, void lookups and each zone's blocks per result class."""
    compiled, checked = publication.compiled, publication.checked
    zones = []
    for zone in compiled.zones:
        blocks: dict[str, int] = {}
        for block in zone.blocks:
            key = _block_class(zone, block.value)
            blocks[key] = blocks.get(key, 0) + 1
        zones.append({"name": compiled.root(zone), "decides": zone.result or "every result (redirect)",
                      "blocks": blocks})
    return {
        "mode": "macro",
        "label": compiled.label,
        "records": compiled.record_count,
        "bytes": sum(rdata_size(split_strings(value)) for _, value in compiled.records()),
        "lookups": compiled.lookups,
        "void_lookups": checked.max_void_lookups if checked else None,
        "max_lookups_seen": checked.max_lookups if checked else None,
        "zones": zones,
    }


def _block_class(zone: Zone, value: str) -> str:
    if zone.result is None:  # the class its record ends with, after any kept terms it holds
        return _CLASS_OF[value.rsplit(" ", 1)[-1]]
    return zone.result if value == INSIDE else "no match"


def explain(publication: Publication) -> list[str]:
    """One line per compiled record below a family's root: its owner, value and the flattened
    terms whose addresses it answers for."""
    compiled = publication.compiled
    contributors = []
    for label, spans in publication.segments.contributors:
        contributors.append((label, spans, [(v, f) for v, f, _ in spans]))
    lines = [f"  compiled under {compiled.label}: {compiled.record_count:,} records"]
    for zone in compiled.zones:
        root = compiled.root(zone)
        for block in zone.blocks:
            if block.prefixlen == 0:
                lines.append(f"  {block.owner}.{root}  {block.value}  (the rest of the family)")
                continue
            last = block.first + (1 << (_BITS[block.version] - block.prefixlen)) - 1
            names = []
            for label, spans, starts in contributors:
                index = bisect.bisect_right(starts, (block.version, last)) - 1
                if index >= 0 and spans[index][0] == block.version and spans[index][2] >= block.first:
                    names.append(label)
            lines.append(f"  {block.owner}.{root}  {block.value}  <- {'; '.join(names) or 'the default'}")
    return lines
