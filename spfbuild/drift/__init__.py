"""`spfbuild diff`: does what each domain publishes still mean what the config declares?

Judged by meaning, not by text: the published records (through their includes, chained records
and compiled zones, as DNS serves them) and the declaration (as written, catalogue expanded) are
evaluated by the project's evaluator at every range boundary of both sides, as flatten's
self-check does; a flattened or compiled record that gives every address the declared result is
in sync. The DKIM and DMARC records the config declares are compared with those published.

Modules: model (the values returned), spf (the SPF comparison), companions (DKIM and DMARC),
run (every domain of a config at once, over one resolver).
"""

from __future__ import annotations

from spfbuild.drift.model import (
    DIFFERS,
    ERROR,
    IN_SYNC,
    MISSING,
    STATUSES,
    UNREACHABLE,
    CompanionDrift,
    Difference,
    DomainDrift,
)
from spfbuild.drift.run import diff_all, diff_domain

__all__ = [
    "DIFFERS",
    "ERROR",
    "IN_SYNC",
    "MISSING",
    "STATUSES",
    "UNREACHABLE",
    "CompanionDrift",
    "Difference",
    "DomainDrift",
    "diff_all",
    "diff_domain",
]
