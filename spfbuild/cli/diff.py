"""`spfbuild diff`: whether what each domain publishes still means what the config declares
(the work is `spfbuild.drift`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_CHANGES, EXIT_DNS, EXIT_ERROR, EXIT_OK
from spfbuild.cli.options import (
    DEFAULT_TIMEOUT,
    ConfigArgument,
    NameserverOption,
    ProvidersOption,
    TimeoutOption,
    make_resolver,
)
from spfbuild.printable import shown

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spfbuild.drift import DomainDrift


@app.command("diff")
def diff_command(
    config: ConfigArgument,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list: one object per domain, in the config's order.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the domains that are not in sync (nothing when all are).")
    ] = False,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    providers: ProvidersOption = None,
) -> None:
    """Compare what each domain publishes with what CONFIG declares, by meaning: every address's
    result, the published records (includes, chained records, compiled zones) against the
    declaration, at every range boundary of both; and the DKIM and DMARC records declared.

    Each domain is `in sync` (a flattened or compiled record that gives every address the
    declared result is), `differs` (the address ranges whose result differs are listed with
    both results and the terms deciding them, then the main record's terms that differ, then
    the DKIM/DMARC records that differ or are missing), `missing` (no v=spf1 record at the
    domain), `unreachable` (DNS failed) or `error` (the declaration cannot be built).

    Exit status: 0 every domain in sync, 2 some domain differs or is missing, otherwise 1 a
    domain's declaration cannot be built (or the config is wrong), otherwise 3 some domain was
    unreachable; 64 usage error.
    """
    import asyncio

    from spfbuild.cli.inputs import load
    from spfbuild.cli.progress import Progress
    from spfbuild.drift import diff_all

    resolver = make_resolver(nameserver, timeout)
    catalogue, cfg = load(config, providers)
    progress = Progress(len(cfg.domains), sys.stderr, "compared")
    try:
        drifts = asyncio.run(diff_all(cfg.domains, catalogue, resolver, progress.advance))
    finally:
        progress.clear()
    if as_json:
        from spfbuild import jsontext

        payload = [d.to_dict() for d in drifts if not (quiet and d.ok)]
        print(jsontext.dumps(payload, ensure_ascii=False))
    else:
        for drift in drifts:
            if not (quiet and drift.ok):
                print("\n".join(shown(line) for line in lines(drift)))
    raise typer.Exit(exit_status(drifts))


def exit_status(drifts: Sequence[DomainDrift]) -> int:
    from spfbuild.drift import DIFFERS, ERROR, MISSING, UNREACHABLE

    statuses = {d.status for d in drifts}
    if statuses & {DIFFERS, MISSING}:
        return EXIT_CHANGES
    if ERROR in statuses:
        return EXIT_ERROR
    if UNREACHABLE in statuses:
        return EXIT_DNS
    return EXIT_OK


def lines(drift: DomainDrift) -> list[str]:
    """`domain: status`, then the details, indented."""
    from spfbuild.drift import IN_SYNC

    out = [f"{drift.domain}: {drift.status}"]
    if drift.error is not None:
        out.append(f"  {drift.error}")
    for item in drift.differences:
        out.append(f"  {item.range}: declared {item.declared}{_by(item.declared_term)}, "
                   f"published {item.published}{_by(item.published_term)}")
    if drift.differences and drift.record_diff:  # beside a difference in meaning, not instead of one
        out.append(f"  declared:  {drift.declared}")
        out.append(f"  published: {drift.published}")
        out += [f"    {line}" for line in drift.record_diff]
    for companion in drift.companions:
        if companion.status != IN_SYNC:
            detail = f": {companion.detail}" if companion.detail else ""
            out.append(f"  {companion.name} {companion.type} {companion.status}{detail}")
    if drift.note is not None and drift.status != IN_SYNC:
        out.append(f"  note: {drift.note}")
    return out


def _by(term: str | None) -> str:
    return f" by {term}" if term else " (no term matched)"
