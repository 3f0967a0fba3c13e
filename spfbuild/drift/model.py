"""The values `spfbuild diff` returns: one `DomainDrift` per domain, its address ranges whose
result differs, and its companion records (DKIM, DMARC) compared one by one."""

from __future__ import annotations

from dataclasses import dataclass

IN_SYNC = "in sync"
DIFFERS = "differs"
MISSING = "missing"  # no v=spf1 record published at the domain
UNREACHABLE = "unreachable"  # DNS failed: nothing could be judged
ERROR = "error"  # the declaration itself cannot be built (a problem in the data)
STATUSES = (IN_SYNC, DIFFERS, MISSING, UNREACHABLE, ERROR)


@dataclass(frozen=True)
class Difference:
    """Addresses (one range, inside one family) whose result differs, and the terms deciding it."""

    range: str
    declared: str  # the declaration's result
    published: str  # the published record's result
    declared_term: str | None  # the term that decides it, None when nothing matched
    published_term: str | None

    def to_dict(self) -> dict[str, object]:
        return {"range": self.range, "declared": self.declared, "published": self.published,
                "declared_term": self.declared_term, "published_term": self.published_term}


@dataclass(frozen=True)
class CompanionDrift:
    """One declared DKIM or DMARC record against what its name publishes."""

    name: str
    type: str  # CNAME or TXT
    status: str  # in sync, differs, missing or unreachable
    declared: str
    published: str | None
    detail: str | None = None  # why it differs, in words

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "type": self.type, "status": self.status, "declared": self.declared,
                "published": self.published, "detail": self.detail}


@dataclass(frozen=True)
class DomainDrift:
    domain: str
    status: str  # one of STATUSES
    declared: str  # the record the config composes (what `render` emits)
    published: str | None  # the v=spf1 record at the domain, None when there is none
    differences: tuple[Difference, ...] = ()
    record_diff: tuple[str, ...] = ()  # the main record's terms: "- term" declared only, "+ term" published only
    companions: tuple[CompanionDrift, ...] = ()
    error: str | None = None  # the DNS failure or the problem in the data, one line
    checked: int = 0  # intervals compared: between the boundaries of both sides, each side's result is one
    note: str | None = None  # a limit of the judgement, when there is one

    @property
    def ok(self) -> bool:
        return self.status == IN_SYNC

    def to_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain, "status": self.status, "published": self.published, "declared": self.declared,
            "differences": [d.to_dict() for d in self.differences], "record_diff": list(self.record_diff),
            "companions": [c.to_dict() for c in self.companions], "error": self.error,
            "checked_intervals": self.checked, "note": self.note,
        }
