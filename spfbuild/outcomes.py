"""What a cron run (spfbuild.cron) does with each domain: its status and messages, its
flattening, and what its publishing (spfbuild.pushing) changed in the zone."""

from __future__ import annotations

from dataclasses import dataclass, field

from spfbuild.failure import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from spfbuild.flattening import Flattened


@dataclass
class Outcome:
    """One domain's part of a run, filled in as the run goes: the plan sets its status and
    flattening, the publishing what it changed (so it is not frozen)."""

    domain: str
    status: str  # "unchanged", "changed", "error"
    lines: list[str] = field(default_factory=list)
    flattened: Flattened | None = None
    kind: Kind = Kind.DATA  # of an error: a DNS or network failure, or a problem in the data
    deleted: set[str] = field(default_factory=set)  # retired names this run deleted from the zone
    warnings: list[str] = field(default_factory=list)  # what was done differently from the config
    added: frozenset[tuple[str, str]] = frozenset()  # (name, type) of companions this run put into the zone
    pushed: bool = False  # this run's push made the zone's companions what the config says

    def fail(self, lines: list[str], kind: Kind) -> None:
        self.status, self.lines, self.kind = "error", lines, kind
