"""Measure providers' lookup costs against DNS (`spfbuild providers refresh`), and write the
figures back into provider files. The library never prints: it returns the measurements."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spfbuild.provider import Provider

TYPE_CHECKING = False
if TYPE_CHECKING:
    from spfbuild.mechanisms import DNSResolver


@dataclass(frozen=True)
class Measurement:
    provider: str
    region: str | None  # None: the provider's `lookups` (its default include)
    target: str
    old: int
    new: int | None  # None: could not be measured (see `problem`)
    problem: str | None = None

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.old


def _targets(provider: Provider) -> list[tuple[str | None, str]]:
    """What to measure: the default include for `lookups`, and each region with its own figure."""
    if provider.regions:
        table = dict(provider.regions)
        found: list[tuple[str | None, str]] = []
        if provider.default_region:
            found.append((None, table[provider.default_region]))
        found += [(region, table[region]) for region, _ in provider.region_lookups]
        return found
    return [(None, provider.include)] if provider.include else []


async def measure(providers: Iterable[Provider], resolver: DNSResolver) -> list[Measurement]:
    """Each provider's cost, counting the include itself: 1 + the lookups of the tree below it
    (RFC 7208 section 4.6.4), walked with the project's include-tree walker."""
    import asyncio

    from spfbuild.tree import walk

    async def one(provider: Provider, region: str | None, target: str) -> Measurement:
        old = provider.lookups_for(region) if region else provider.lookups
        if provider.parameters:
            return Measurement(provider.id, region, target, old, None, "account-specific: needs its parameters")
        if provider.mechanism != "include":
            return Measurement(provider.id, region, target, old, 1)  # an a: term is one lookup
        tree = await walk(target, resolver)
        if tree.root.record is None:
            return Measurement(provider.id, region, target, old, None, f"no SPF record ({tree.root.status.value})")
        return Measurement(provider.id, region, target, old, 1 + tree.lookups)

    jobs = [one(p, region, target) for p in providers for region, target in _targets(p)]
    return list(await asyncio.gather(*jobs))


def write_measurements(path: Path, found: Iterable[Measurement], day: datetime.date | None = None) -> bool:
    """Rewrite `lookups`, `region_lookups` entries and `lookups_measured` in one provider file,
    line by line so that comments and layout stay; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    date = (day or datetime.date.today()).isoformat()
    measured = [m for m in found if m.new is not None]
    if not measured:
        return False
    for m in measured:
        if m.region is None:
            lines = [f"lookups: {m.new}" if re.fullmatch(r"lookups: \d+", line) else line for line in lines]
        else:
            pattern = re.compile(rf"(\s+){re.escape(m.region)}: \d+")
            inside = False
            for i, line in enumerate(lines):
                inside = line.startswith("region_lookups:") or (inside and line.startswith((" ", "#")))
                match = pattern.fullmatch(line)
                if inside and match:
                    lines[i] = f"{match.group(1)}{m.region}: {m.new}"
    if any(line.startswith("lookups_measured:") for line in lines):
        lines = [f"lookups_measured: {date}" if line.startswith("lookups_measured:") else line for line in lines]
    else:
        at = next(i for i, line in enumerate(lines) if re.fullmatch(r"lookups: \d+", line))
        lines.insert(at + 1, f"lookups_measured: {date}")
    new = "\n".join(lines)
    if new == text:
        return False
    from spfbuild.files import write_atomic

    write_atomic(path, new)
    return True
