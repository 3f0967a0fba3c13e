"""`spfbuild flatten`: resolve the senders' trees and emit exact ip4/ip6 records within the limits."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_ERROR, EXIT_USAGE, fail, warn
from spfbuild.cli.dnsopts import DEFAULT_TIMEOUT, NameserverOption, TimeoutOption, make_resolver
from spfbuild.cli.render import FORMAT_OPTION, OUTPUT_OPTION, Format, emit_sets

if TYPE_CHECKING:
    from spfbuild.config import Config
    from spfbuild.dns import Resolver
    from spfbuild.emit import RecordSet
    from spfbuild.flatten import Flattened


@app.command()
def flatten(
    config: Annotated[Path, typer.Argument(help="senders.yaml: the domain(s) and who sends mail for them.")],
    fmt: Annotated[Format, FORMAT_OPTION] = Format.txt,
    output: Annotated[Path | None, OUTPUT_OPTION] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show, on stderr, which senders and DNS names each range came from.")
    ] = False,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    state: Annotated[
        Path | None, typer.Option("--state", help="Cron mode: the JSON state of the last published records.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Plan only: exit 0 unchanged, 2 would change, 1 error. Writes nothing.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Accept a source that shrank or resolves to nothing.")] = False,
    max_shrink: Annotated[
        float, typer.Option("--max-shrink", metavar="PERCENT", help="Refuse a source losing more than this share.")
    ] = 30.0,
    push: Annotated[
        str | None, typer.Option("--push", metavar="rfc2136://HOST[:PORT]/ZONE", help="Publish with RFC 2136.")
    ] = None,
    tsig_key: Annotated[
        Path | None, typer.Option("--tsig-key", metavar="FILE", help="TSIG key file (tsig-keygen output) for --push.")
    ] = None,
) -> None:
    """Flatten each domain's senders into ip4/ip6 ranges (and chained records) within the lookup budget.

    Every address keeps the result the declared record gives it; a self-check with the evaluator
    refuses to emit otherwise.

    With --state (for cron): quiet when nothing changed; a short report of what changed and why
    otherwise; guards refuse shrinking or vanished sources; --push publishes with RFC 2136 + TSIG.

    Exit status: 0 done (or unchanged), 1 error (the failed domain's last good records stay),
    2 usage error; with --check: 0 unchanged, 2 would change, 1 error.
    """
    from spfbuild.catalogue import CatalogueError, load_catalogue
    from spfbuild.config import ConfigError, load_config

    if (check or push or force) and state is None:
        fail("--check, --force and --push need --state FILE", EXIT_USAGE)
    if push is not None and tsig_key is None:
        fail("--push needs --tsig-key FILE", EXIT_USAGE)
    if not 0 <= max_shrink <= 100:
        fail("--max-shrink must be a percentage from 0 to 100", EXIT_USAGE)
    resolver = make_resolver(nameserver, timeout)
    try:
        catalogue = load_catalogue()
        cfg = load_config(config, catalogue)
    except (ConfigError, CatalogueError) as exc:
        fail(str(exc))
    if state is not None:
        _cron(cfg, resolver, state, fmt, output, check, force, max_shrink / 100, push, tsig_key, timeout, explain)
        return
    results = asyncio.run(_flatten_all(cfg, resolver))
    errors = [r for r in results if isinstance(r, str)]
    if errors:
        for message in errors[:-1]:
            print(f"spfbuild: error: {message}", file=sys.stderr)
        fail(errors[-1] if len(errors) == 1 else f"{errors[-1]} ({len(errors)} domains failed; nothing written)")
    done = [r for r in results if not isinstance(r, str)]
    if explain:
        for item in done:
            print(explanation(item), file=sys.stderr)
    emit_sets([_with_details(r) for r in done], fmt, output)


async def _flatten_all(cfg: Config, resolver: Resolver) -> list[Flattened | str]:
    from spfbuild.catalogue import load_catalogue
    from spfbuild.flatten import flatten_or_error

    catalogue = load_catalogue()
    return list(await asyncio.gather(*(flatten_or_error(spec, catalogue, resolver) for spec in cfg.domains)))


def _with_details(item: Flattened) -> RecordSet:
    from dataclasses import replace

    extra = {
        "lookups": item.lookups,
        "kept": list(item.kept),
        "flattened": list(item.flattened),
        "self_checked_addresses": item.checked,
        "origins": {term: list(sources) for term, sources in item.origins},
    }
    return replace(item.record_set, extra=extra)


def explanation(item: Flattened) -> str:
    lines = [f"{item.domain}: {item.lookups} DNS lookups; {len(item.record_set.records) - 1} chained records"]
    for term in item.kept:
        lines.append(f"  kept      {term}")
    for term in item.flattened:
        lines.append(f"  flattened {term}")
    for term, sources in item.origins:
        lines.append(f"  {term:<28} <- {'; '.join(sources)}")
    return "\n".join(lines)


def _cron(
    cfg: Config, resolver: Resolver, state: Path, fmt: Format, output: Path | None, check: bool, force: bool,
    max_shrink: float, push: str | None, tsig_key: Path | None, timeout: float, explain: bool,
) -> None:
    from collections.abc import Sequence

    from spfbuild.catalogue import load_catalogue
    from spfbuild.cron import CronOptions, run
    from spfbuild.publish import PublishError, load_tsig_key, parse_push_url
    from spfbuild.state import StateError

    target = key = None
    try:
        if push is not None and tsig_key is not None:
            target = parse_push_url(push)
            key, warnings = load_tsig_key(tsig_key)
            for warning in warnings:
                warn(warning)
    except PublishError as exc:
        fail(str(exc), EXIT_USAGE)
    options = CronOptions(state, check=check, force=force, max_shrink=max_shrink, push=target, key=key,
                          timeout=timeout)

    def write(sets: Sequence[RecordSet], changed: bool) -> None:
        if output is not None and (changed or not output.exists()):
            emit_sets(sets, fmt, output)

    try:
        result = asyncio.run(run(cfg, load_catalogue(), resolver, options, None if check else write))
    except StateError as exc:
        fail(str(exc))
    for outcome in result.outcomes:
        stream = sys.stderr if outcome.status == "error" else sys.stdout
        for line in outcome.lines:
            print(line, file=stream)
        if explain and outcome.flattened is not None and outcome.status != "unchanged":
            print(explanation(outcome.flattened), file=sys.stderr)
    if result.failed:
        raise typer.Exit(EXIT_ERROR)
    if check and result.changed:
        raise typer.Exit(2)
    if output is None and result.changed and not check:
        emit_sets(result.record_sets, fmt, None)
