"""The first DNS questions of a flattening run, asked before the flattening machinery is imported.

Flattening needs netaddr, the partition, the packer and the evaluator: tens of milliseconds of
imports before its first question. The questions its first step asks follow from the composed
record alone (the top-level include, redirect, `a` and `mx` targets, and the domain's own TXT
records for the byte budget), so they are sent first and the imports run while the answers
travel. The resolver asks each question once, so flattening then finds them answered or on
their way; nothing is asked that flattening would not ask.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from spfbuild.catalogue import Catalogue
from spfbuild.compose import ComposeError, compose
from spfbuild.config import DomainSpec
from spfbuild.dns import Resolver
from spfbuild.record import Mechanism

Question = tuple[str, str]


def first_questions(spec: DomainSpec, catalogue: Catalogue) -> list[Question]:
    """(name, type) pairs flattening `spec` asks at its first step; none when it cannot compose."""
    try:
        record = compose(spec, catalogue).record
    except ComposeError:
        return []
    questions: list[Question] = []
    if spec.flatten.reserve_bytes is None:
        questions.append((spec.domain, "TXT"))
    has_all = False
    for mech in record.mechanisms:
        questions += _mechanism_questions(mech, spec.domain)
        if mech.kind == "all":
            has_all = True
            break  # terms after `all` are never evaluated, nor resolved
    redirect = record.redirect
    if redirect is not None and not has_all and "%" not in redirect:
        questions.append((redirect, "TXT"))
    return list(dict.fromkeys((name.lower().rstrip("."), rdtype) for name, rdtype in questions))


def _mechanism_questions(mech: Mechanism, domain: str) -> list[Question]:
    if mech.has_macros or mech.kind in ("exists", "ptr"):
        return []  # opaque: kept as written, never resolved ahead
    target = mech.domain or domain
    if mech.kind == "include":
        return [(target, "TXT")]
    if mech.kind == "a":
        return [(target, "A"), (target, "AAAA")]
    if mech.kind == "mx":
        return [(target, "MX")]
    return []


async def send_first_questions(specs: Iterable[DomainSpec], catalogue: Catalogue, resolver: Resolver) -> None:
    """Start asking every spec's first questions; return once they are on the wire."""
    for spec in specs:
        for name, rdtype in first_questions(spec, catalogue):
            resolver.prefetch(name, rdtype)
    await asyncio.sleep(0)  # each question is sent at its task's first step, which runs now
