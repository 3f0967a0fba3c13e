"""The work of `spfbuild flatten` (`spfbuild.cli.flatten` parses its options): one flattening of
every domain, or the cron run with its state file, guards and publishing."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from spfbuild.cli.common import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_USAGE, fail, warn
from spfbuild.cli.output import emit_sets

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from spfbuild.catalogue import Catalogue
    from spfbuild.cli.options import Format
    from spfbuild.config import Config
    from spfbuild.cron import RunResult
    from spfbuild.dns import Resolver
    from spfbuild.emit import RecordSet
    from spfbuild.flattening import Flattened


def flatten_once(cfg: Config, catalogue: Catalogue, resolver: Resolver, fmt: Format, output: Path | None,
                 explain: bool) -> int:
    """Flatten, self-check and emit every domain; the exit status."""
    results = asyncio.run(_flatten_all(cfg, catalogue, resolver))
    errors = [r for r in results if isinstance(r, str)]
    if errors:
        for message in errors[:-1]:
            print(f"spfbuild: error: {message}", file=sys.stderr)
        fail(errors[-1] if len(errors) == 1 else f"{errors[-1]} ({len(errors)} domains failed; nothing written)")
    done = [r for r in results if not isinstance(r, str)]
    for item in done:
        for message in item.warnings:
            warn(f"{item.domain}: {message}")
    if explain:
        for item in done:
            print(explanation(item), file=sys.stderr)
    emit_sets([_with_details(r) for r in done], fmt, output)
    return EXIT_OK


async def _flatten_all(cfg: Config, catalogue: Catalogue, resolver: Resolver) -> list[Flattened | str]:
    from spfbuild.flattening import flatten_all

    return await flatten_all(cfg.domains, catalogue, resolver)


def _with_details(item: Flattened) -> RecordSet:
    extra = {
        "lookups": item.lookups,
        "kept": list(item.kept),
        "kept_because": dict(item.why_kept),
        "flattened": list(item.flattened),
        "self_checked_addresses": item.checked,
        "origins": {term: list(sources) for term, sources in item.origins},
    }
    if item.compiled is not None:
        from spfbuild.compiled.report import summary

        extra["compiled"] = summary(item.compiled)
    return replace(item.record_set, extra=extra)


def explanation(item: Flattened) -> str:
    chained = "compiled" if item.compiled is not None else "chained"
    lines = [f"{item.domain}: {item.lookups} DNS lookups; {len(item.record_set.records) - 1} {chained} records"]
    for term, why in item.why_kept:
        lines.append(f"  kept      {term} ({why})")
    for term in item.flattened:
        lines.append(f"  flattened {term}")
    for term, sources in item.origins:
        lines.append(f"  {term:<28} <- {'; '.join(sources)}")
    if item.compiled is not None:
        from spfbuild.compiled.report import explain

        lines += explain(item.compiled)
    return "\n".join(lines)


def cron(cfg: Config, catalogue: Catalogue, resolver: Resolver, state: Path, *, check: bool, force: bool,
         max_shrink: float, push: str | None, tsig_key: Path | None, timeout: float, fmt: Format,
         output: Path | None, explain: bool) -> int:
    """The cron run against the state file `state` (`max_shrink` a share, not a percentage);
    the exit status."""
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

    def write(sets: Sequence[RecordSet], changed: bool) -> None:
        if output is not None and (changed or not output.exists()):
            emit_sets(sets, fmt, output)

    async def cron_run() -> RunResult:
        from spfbuild.cron import CronOptions, run

        options = CronOptions(state, check=check, force=force, max_shrink=max_shrink, push=target, key=key,
                              timeout=timeout)
        return await run(cfg, catalogue, resolver, options, None if check else write)

    try:
        result = asyncio.run(cron_run())
    except StateError as exc:
        fail(str(exc))
    for outcome in result.outcomes:
        stream = sys.stderr if outcome.status == "error" else sys.stdout
        for line in outcome.lines:
            print(line, file=stream)
        if explain and outcome.flattened is not None and outcome.status != "unchanged":
            print(explanation(outcome.flattened), file=sys.stderr)
    if result.failed:
        return EXIT_ERROR
    if check and result.changed:
        return EXIT_CHANGES
    if output is None and result.changed and not check:
        emit_sets(result.record_sets, fmt, None)
    return EXIT_OK
