"""An in-memory stand-in for `spfbuild.dns.Resolver`, for evaluator logic tests.

It answers from a dict, follows CNAMEs like a recursive resolver (a loop is SERVFAIL), tells
NXDOMAIN (name absent) from NODATA (name present, type absent), and can be told to fail:
`fail("x.example", Outcome.TIMEOUT)`. Like the real resolver it caches each question, so
`queries` lists each (name, type) once and `calls` every call the evaluator made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from spfbuild.dns import MX, Answer, Outcome, QueryRecord, RData, normalize
from spfbuild.evaluation import Evaluation, check_host, spf_identity

SERVER = "memory"
_MAX_CNAME_HOPS = 8


class MemoryResolver:
    def __init__(self, zone: Mapping[str, Iterable[tuple[str, RData | tuple[int, str]]]] | None = None):
        self._zone: dict[str, dict[str, list[RData]]] = {}
        self._failures: dict[str, list[tuple[Outcome, frozenset[str] | None, frozenset[str]]]] = {}
        self._cache: dict[tuple[str, str], Answer] = {}
        self.queries: list[QueryRecord] = []
        self.calls: list[tuple[str, str]] = []
        for name, records in (zone or {}).items():
            self.touch(name)
            for rdtype, value in records:
                self.add(name, rdtype, value)

    # ----------------------------------------------------------------- building

    def touch(self, name: str) -> MemoryResolver:
        """Make `name` exist (NODATA for every type rather than NXDOMAIN)."""
        self._zone.setdefault(normalize(name), {})
        return self

    def add(self, name: str, rdtype: str, *values: RData | tuple[int, str]) -> MemoryResolver:
        records = self._zone.setdefault(normalize(name), {}).setdefault(rdtype.upper(), [])
        for value in values:
            if rdtype.upper() == "MX" and isinstance(value, tuple):
                value = MX(int(value[0]), normalize(str(value[1])) or ".")
            elif rdtype.upper() in ("CNAME", "PTR"):
                value = normalize(str(value))
            records.append(value)  # type: ignore[arg-type]
        return self

    def txt(self, name: str, *texts: str) -> MemoryResolver:
        return self.add(name, "TXT", *texts)

    def fail(
        self,
        name: str,
        outcome: Outcome = Outcome.TIMEOUT,
        rdtypes: Iterable[str] | None = None,
        *,
        except_types: Iterable[str] = (),
    ) -> MemoryResolver:
        """Questions about `name` (of `rdtypes`, default all but `except_types`) give `outcome`."""
        only = None if rdtypes is None else frozenset(t.upper() for t in rdtypes)
        exempt = frozenset(t.upper() for t in except_types)
        self._failures.setdefault(normalize(name), []).append((outcome, only, exempt))
        return self

    # ----------------------------------------------------------------- answering

    async def query(self, name: str, rdtype: str) -> Answer:
        key = (normalize(name), rdtype.upper())
        self.calls.append(key)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        answer = self._answer(*key)
        self.queries.append(QueryRecord(key[0], key[1], answer.outcome, SERVER, 0.0, "memory"))
        self._cache[key] = answer
        return answer

    def _answer(self, name: str, rdtype: str) -> Answer:
        labels = name.split(".")
        if not name or any(not label for label in labels) or any(len(label) > 63 for label in labels):
            return Answer(name, rdtype, Outcome.ERROR, detail="not a DNS name")
        current, seen = name, {name}
        for _hop in range(_MAX_CNAME_HOPS):
            failure = self._failure(current, rdtype)
            if failure is not None:
                return Answer(name, rdtype, failure, server=SERVER)
            node = self._zone.get(current)
            if node is None:
                return Answer(name, rdtype, Outcome.NXDOMAIN, server=SERVER)
            records = node.get(rdtype)
            if records:
                return Answer(name, rdtype, Outcome.OK, tuple(records), SERVER)
            target = node.get("CNAME")
            if not target or rdtype == "CNAME":
                return Answer(name, rdtype, Outcome.NODATA, server=SERVER)
            current = str(target[0])
            if current in seen:
                break
            seen.add(current)
        return Answer(name, rdtype, Outcome.SERVFAIL, server=SERVER, detail="CNAME loop")

    def _failure(self, name: str, rdtype: str) -> Outcome | None:
        for outcome, only, exempt in self._failures.get(name, ()):
            if (only is None or rdtype in only) and rdtype not in exempt:
                return outcome
        return None


def from_suite_zonedata(zonedata: Mapping[str, list[object]]) -> MemoryResolver:
    """A resolver for one scenario of the openspf YAML test suites, read as pyspf's driver does.

    Each name lists entries: `{TYPE: value}` or `TIMEOUT`. Types listed before a TIMEOUT answer;
    every other type of that name times out. `TXT: NONE` means no TXT record. SPF (type 99)
    records are copied as TXT records unless the name has a TXT entry (the suites rely on that
    to test TXT-only implementations). A name outside the data is NXDOMAIN, except that a name
    starting with "error." times out.
    """
    resolver = _SuiteResolver()
    for name, entries in zonedata.items():
        resolver.touch(name)
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        answered: list[str] = []
        copies: list[str] = []
        for entry in entries:
            if entry == "TIMEOUT":
                resolver.fail(name, Outcome.TIMEOUT, except_types=answered)
                break
            assert isinstance(entry, dict), entry
            for rdtype, value in entry.items():
                pieces = [value] if isinstance(value, str) else list(value)
                if rdtype in ("TXT", "SPF") and pieces == ["NONE"]:
                    continue  # a placeholder, not an answer: a later TIMEOUT still applies
                answered.append(rdtype)
                if value == "TIMEOUT":
                    resolver.fail(name, Outcome.TIMEOUT, [rdtype])
                elif rdtype in ("TXT", "SPF"):
                    resolver.add(name, rdtype, "".join(pieces))
                    if rdtype == "SPF" and not has_txt:
                        copies.append("".join(pieces))
                elif rdtype == "MX":
                    resolver.add(name, "MX", (int(value[0]), str(value[1])))
                else:
                    resolver.add(name, rdtype, str(value))
        else:
            for text in copies:
                resolver.add(name, "TXT", text)
    return resolver


class _SuiteResolver(MemoryResolver):
    def _answer(self, name: str, rdtype: str) -> Answer:
        answer = super()._answer(name, rdtype)
        if answer.outcome is Outcome.NXDOMAIN and name.startswith("error."):
            return Answer(name, rdtype, Outcome.TIMEOUT, server=SERVER)
        return answer


def check(
    zone: MemoryResolver | Mapping[str, Iterable[tuple[str, RData | tuple[int, str]]]],
    ip: str,
    mailfrom: str,
    helo: str = "",
    **kwargs: Any,
) -> Evaluation:
    """check_host() for `ip` and MAIL FROM `mailfrom` over an in-memory zone."""
    resolver = zone if isinstance(zone, MemoryResolver) else MemoryResolver(zone)
    sender, domain = spf_identity(mailfrom, helo)
    return asyncio.run(check_host(ip, domain, sender, resolver, helo=helo, **kwargs))
