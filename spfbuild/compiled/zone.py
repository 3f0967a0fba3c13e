"""A compiled zone answered as an authoritative server answers it: exact names first, then the
RFC 4592 wildcard at the closest encloser.

This is deliberately not the compiler's view of its own records: it knows nothing of blocks or
addresses, only names, so the self-check that resolves client names through it tests what a
DNS server would serve (RFC 4592 section 3.3.1): a name that exists answers itself (an empty
non-terminal: no data); otherwise the closest encloser is the longest ancestor that exists, and
`*.<closest encloser>` answers if it exists, NXDOMAIN if not.
"""

from __future__ import annotations

from collections.abc import Mapping

from spfbuild.dns import Answer, Outcome, normalize
from spfbuild.mechanisms import DNSResolver

SERVER = "compiled zone"


class ServedZone:
    """TXT records (one value per name) at and below `apex`, every name absolute."""

    def __init__(self, apex: str, records: Mapping[str, str]):
        self.apex = normalize(apex)
        self.records = {normalize(name): value for name, value in records.items()}
        self.existing: set[str] = {self.apex}
        suffix = "." + self.apex
        for name in self.records:
            if not name.endswith(suffix):
                raise ValueError(f"{name} is not below {self.apex}")
            # Every ancestor of a name exists (empty non-terminals included).
            while name not in self.existing:
                self.existing.add(name)
                name = name.split(".", 1)[1]

    def contains(self, name: str) -> bool:
        name = normalize(name)
        return name == self.apex or name.endswith("." + self.apex)

    def answer(self, name: str, rdtype: str = "TXT") -> Answer:
        """The answer for `name` (which must be inside the zone)."""
        name, rdtype = normalize(name), rdtype.upper()
        if name in self.existing:
            value = self.records.get(name)
            if value is None or rdtype != "TXT":
                return Answer(name, rdtype, Outcome.NODATA, server=SERVER)
            return Answer(name, rdtype, Outcome.OK, (value,), server=SERVER)
        encloser = name
        while encloser not in self.existing:
            encloser = encloser.split(".", 1)[1]
        source = self.records.get("*." + encloser)
        if source is None:
            return Answer(name, rdtype, Outcome.NXDOMAIN, server=SERVER)
        if rdtype != "TXT":
            return Answer(name, rdtype, Outcome.NODATA, server=SERVER)
        return Answer(name, rdtype, Outcome.OK, (source,), server=SERVER)


class ZoneResolver:
    """Answers names inside `zone` from it and asks `base` for every other name."""

    def __init__(self, zone: ServedZone, base: DNSResolver):
        self.zone = zone
        self.base = base

    async def query(self, name: str, rdtype: str) -> Answer:
        if self.zone.contains(name):
            return self.zone.answer(name, rdtype)
        return await self.base.query(name, rdtype)
