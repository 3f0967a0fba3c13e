"""`spfbuild flatten`: resolve the senders' trees and emit exact ip4/ip6 records within the limits
(the work is `spfbuild.cli.flattening`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spfbuild.cli.app import BadValue, app
from spfbuild.cli.common import EXIT_USAGE, fail
from spfbuild.cli.options import (
    DEFAULT_TIMEOUT,
    ConfigArgument,
    Format,
    FormatOption,
    NameserverOption,
    OutputOption,
    ProvidersOption,
    TimeoutOption,
    make_resolver,
)
from spfbuild.limits import DEFAULT_MAX_SHRINK

# As a percentage, rounded so that --help shows 30.0, not 30.000000000000004.
DEFAULT_MAX_SHRINK_PERCENT = round(DEFAULT_MAX_SHRINK * 100, 9)


def _percent(text: str) -> float:
    try:
        percent = float(text)
    except ValueError:
        percent = float("nan")
    if not 0 <= percent <= 100:
        raise BadValue(f"must be a percentage from 0 to 100, not {text!r}")
    return percent


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = -1
    if jobs < 0:
        raise BadValue(f"must be a number of processes (0: one per core), not {text!r}")
    return jobs


@app.command()
def flatten(
    config: ConfigArgument,
    fmt: FormatOption = Format.txt,
    output: OutputOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show, on stderr, which senders and DNS names each range came from.")
    ] = False,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    state: Annotated[
        Path | None, typer.Option("--state", help="Cron mode: the JSON state of the last published records.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Plan only: exit 0 unchanged, 2 would change, 1 error, 3 DNS failure. "
                                           "Writes nothing.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Accept a source that shrank or resolves to nothing.")] = False,
    max_shrink: Annotated[
        float,
        typer.Option("--max-shrink", metavar="PERCENT", parser=_percent,
                     help="Refuse a source losing more than this percentage of its addresses."),
    ] = DEFAULT_MAX_SHRINK_PERCENT,
    # A list, so that a second --push is refused rather than silently replacing the first.
    pushes: Annotated[
        list[str] | None,
        typer.Option("--push", metavar="rfc2136://HOST[:PORT][/ZONE]",
                     help="Publish every domain with RFC 2136 (once; replaces the config's publish:). "
                          "Without ZONE, each domain's zone is found by its SOA."),
    ] = None,
    tsig_key: Annotated[
        Path | None, typer.Option("--tsig-key", metavar="FILE", help="TSIG key file (tsig-keygen output) for --push.")
    ] = None,
    providers: ProvidersOption = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", metavar="N", parser=_jobs,
                     help="Processes that share a run of many domains once what the domains share is resolved "
                          "(0: one per core; 1: this process alone). Each question is still asked once."),
    ] = 0,
) -> None:
    """Flatten each domain's senders into ip4/ip6 ranges (and chained records) within the lookup budget.

    Every address keeps the result the declared record gives it; a self-check with the evaluator
    refuses to emit otherwise.

    With --state (for cron): quiet when nothing changed; a short report of what changed and why
    otherwise; guards refuse shrinking or vanished sources; domains with publish: in the config (or
    every domain, with --push) are published with RFC 2136 + TSIG, one UPDATE per zone.

    Exit status: 0 done (or unchanged), 1 error (the failed domain's last good records stay),
    3 DNS or network failure, 64 usage error; with --check: 0 unchanged, 2 would change, 1 error,
    3 DNS failure.
    """
    from spfbuild.cli import flattening
    from spfbuild.cli.inputs import load

    if pushes and len(pushes) > 1:
        fail(f"--push may be given once (got {len(pushes)})", EXIT_USAGE)
    push = pushes[0] if pushes else None
    if (check or push or force) and state is None:
        fail("--check, --force and --push need --state FILE", EXIT_USAGE)
    if push is not None and tsig_key is None:
        fail("--push needs --tsig-key FILE", EXIT_USAGE)
    resolver = make_resolver(nameserver, timeout)
    catalogue, cfg = load(config, providers)
    if state is None:
        raise typer.Exit(flattening.flatten_once(cfg, catalogue, resolver, fmt, output, explain, jobs))
    raise typer.Exit(flattening.cron(
        cfg, catalogue, resolver, state, check=check, force=force, max_shrink=max_shrink / 100, push=push,
        tsig_key=tsig_key, timeout=timeout, fmt=fmt, output=output, explain=explain, jobs=jobs,
    ))
