"""Cron state: what was last published per domain, the change report, the shrink guards and
the lock that keeps two runs from racing.

The state file is JSON with a versioned schema. It is written atomically and only after a
run has fully succeeded for a domain (published and verified, when publishing).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import netaddr

from spfbuild import jsontext
from spfbuild.emit import TxtRecord
from spfbuild.errors import SPFBuildError
from spfbuild.files import write_atomic

SCHEMA = 1


class StateError(SPFBuildError):
    pass


@dataclass(frozen=True)
class Retired:
    """A chained record no longer referenced, deleted once caches can no longer ask for it."""

    name: str
    value: str
    since: float  # epoch seconds when it stopped being referenced
    ttl: int

    def expired(self, now: float) -> bool:
        return now >= self.since + self.ttl


@dataclass(frozen=True)
class Managed:
    """A DKIM or DMARC record published beside the SPF record, as the state remembers it."""

    name: str
    type: str  # "CNAME" or "TXT"
    value: str
    ttl: int
    created: bool = field(default=False, compare=False)  # spfbuild added it to the zone: it may delete it

    @property
    def key(self) -> tuple[str, str, str, int]:
        return self.name, self.type, self.value, self.ttl


@dataclass(frozen=True)
class DomainState:
    records: tuple[TxtRecord, ...]
    sources: dict[str, list[str]] = field(default_factory=dict, compare=False)
    updated: str = ""  # ISO time the records last changed
    checked: str = ""  # ISO time of the last successful run
    published: str | None = None  # rfc2136 target, once published there
    retired: tuple[Retired, ...] = ()
    companions: tuple[Managed, ...] = ()  # the DKIM and DMARC records of the config
    dropped: tuple[Managed, ...] = ()  # companions spfbuild added that the config no longer names, to delete

    @property
    def owned(self) -> tuple[tuple[str, str, str], ...]:
        """(name, type, value) of every companion spfbuild added to the zone."""
        return tuple((m.name, m.type, m.value) for m in (*self.companions, *self.dropped) if m.created)


@dataclass
class State:
    domains: dict[str, DomainState] = field(default_factory=dict)

    def to_json(self) -> str:
        payload = {"schema": SCHEMA, "domains": {d: _domain_json(s) for d, s in sorted(self.domains.items())}}
        return jsontext.dumps(payload, sort_keys=True) + "\n"


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _domain_json(state: DomainState) -> dict[str, Any]:
    return {
        "records": [{"name": r.name, "value": r.value, "ttl": r.ttl} for r in state.records],
        "sources": state.sources,
        "updated": state.updated,
        "checked": state.checked,
        "published": state.published,
        "retired": [{"name": r.name, "value": r.value, "since": r.since, "ttl": r.ttl} for r in state.retired],
        "companions": [_managed_json(m) for m in state.companions],
        "dropped": [_managed_json(m) for m in state.dropped],
    }


def _managed_json(record: Managed) -> dict[str, Any]:
    return {"name": record.name, "type": record.type, "value": record.value, "ttl": record.ttl,
            "created": record.created}


def _managed(data: dict[str, Any]) -> Managed:
    return Managed(str(data["name"]), str(data["type"]), str(data["value"]), int(data["ttl"]),
                   bool(data.get("created", False)))


def load_state(path: Path) -> State:
    if not path.exists():
        return State()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(f"{path}: unreadable state file: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise StateError(f"{path}: not a spfbuild state file of schema {SCHEMA}")
    try:
        return State({d: _domain_state(v) for d, v in data["domains"].items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{path}: malformed state file ({exc})") from None


def _domain_state(data: dict[str, Any]) -> DomainState:
    return DomainState(
        records=tuple(TxtRecord(r["name"], r["value"], int(r["ttl"])) for r in data["records"]),
        sources={str(k): [str(x) for x in v] for k, v in data.get("sources", {}).items()},
        updated=str(data.get("updated", "")),
        checked=str(data.get("checked", "")),
        published=data.get("published"),
        retired=tuple(
            Retired(r["name"], r["value"], float(r["since"]), int(r["ttl"])) for r in data.get("retired", [])
        ),
        # Absent from the files of versions that published no companions.
        companions=tuple(_managed(m) for m in data.get("companions", [])),
        dropped=tuple(_managed(m) for m in data.get("dropped", [])),
    )


def save_state(path: Path, state: State) -> None:
    write_atomic(path, state.to_json())


@contextlib.contextmanager
def locked(path: Path, wait: float = 10.0, *, create: bool = True) -> Iterator[None]:
    """Hold an exclusive lock beside the state file; a second run waits `wait` seconds, then
    gives up with a clear message. Without `create` (a plan, which writes nothing) a missing
    lock file is not made: no run holds it, and the state file is only ever replaced whole."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
    except FileNotFoundError:
        if create:
            raise
        yield
        return
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StateError(
                        f"another spfbuild flatten run holds {lock_path}; gave up after {wait:g} s"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


# --- guards and reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class Shrink:
    source: str
    before: int
    after: int

    @property
    def share(self) -> float:
        return 1 - self.after / self.before if self.before else 0.0

    def __str__(self) -> str:
        if self.after == 0:
            return f"{self.source} resolved to {self.before:,} addresses before and now to none"
        return (
            f"{self.source} lost {self.share:.0%} of its addresses ({self.before:,} -> {self.after:,})"
        )


def _count(ranges: list[str]) -> int:
    return sum(netaddr.IPNetwork(r).size for r in ranges)


def shrinks(old: dict[str, list[str]], new: dict[str, list[str]], max_share: float) -> list[Shrink]:
    """Sources that vanished, resolve to nothing, or lost more than `max_share` of their addresses."""
    found = []
    for source, ranges in sorted(old.items()):
        before = _count(ranges)
        if before == 0:
            continue
        after = _count(new[source]) if source in new else None
        if after is None:
            continue  # no longer declared (or now kept as an include): not a shrink of the provider
        if after == 0 or 1 - after / before > max_share:
            found.append(Shrink(source, before, after))
    return found


def change_report(domain: str, old: DomainState | None, records: tuple[TxtRecord, ...],
                  sources: dict[str, list[str]], companions: tuple[Managed, ...] = ()) -> list[str]:
    """Short human lines: what changed and why."""
    if old is None:
        return [f"{domain}: first run: {len(records)} record(s)", *companion_report(None, companions)]
    lines = [f"{domain}: changed"]
    for source in sorted(set(old.sources) | set(sources)):
        before = netaddr.IPSet(old.sources.get(source, []))
        after = netaddr.IPSet(sources.get(source, []))
        name = _name_of(source)
        for net in (after - before).iter_cidrs():
            lines.append(f"  + {net} via {name}")
        for net in (before - after).iter_cidrs():
            reason = f"{name} removed it" if source in sources else f"{name} is no longer flattened"
            lines.append(f"  - {net} ({reason})")
    old_values = {(r.name, r.value) for r in old.records}
    for record in records:
        if (record.name, record.value) not in old_values:
            lines.append(f"  record {record.name}: {record.value}")
    return lines + companion_report(old, companions)


def companion_report(old: DomainState | None, companions: tuple[Managed, ...]) -> list[str]:
    """One line per DKIM or DMARC record that is new or changed, or that the config dropped."""
    before = {m.key for m in old.companions} if old else set()
    now = {m.key for m in companions}
    lines = [f"  companion {m.name} {m.type}: {m.value}{'.' if m.type == 'CNAME' else ''}"
             for m in companions if m.key not in before]
    names = {(m.name, m.type) for m in companions}
    lines += [f"  companion {m.name} {m.type} dropped from the config"
              for m in (old.companions if old else ()) if m.key not in now and (m.name, m.type) not in names]
    return lines


def _name_of(source: str) -> str:
    """`include:spf.protection.outlook.com` -> `spf.protection.outlook.com`."""
    for sep in (":", "="):
        if sep in source:
            return source.split(sep, 1)[1]
    return source
