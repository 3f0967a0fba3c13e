"""The work of `spfbuild flatten` (`spfbuild.cli.flatten` parses its options): one flattening of
every domain, or the cron run with its state file, guards and publishing."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from spfbuild.cli.common import EXIT_CHANGES, EXIT_DNS, EXIT_ERROR, EXIT_OK, EXIT_USAGE, fail, report_failures, warn
from spfbuild.cli.output import emit_sets, is_directory, write_domain_files
from spfbuild.cli.progress import Progress
from spfbuild.printable import shown, shown_lines

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from spfbuild.catalogue import Catalogue
    from spfbuild.cli.options import Format
    from spfbuild.config import Config
    from spfbuild.cron import RunResult
    from spfbuild.dns import Resolver
    from spfbuild.emit import RecordSet
    from spfbuild.failure import DomainFailure
    from spfbuild.flattening import Flattened


def flatten_once(cfg: Config, catalogue: Catalogue, resolver: Resolver, fmt: Format, output: Path | None,
                 explain: bool, jobs: int = 0) -> int:
    """Flatten, self-check and emit every domain; the exit status."""
    from spfbuild.failure import DomainFailure

    if any(spec.publish is not None for spec in cfg.domains):
        # Publishing needs the state (what was pushed, what to retire): say so, never skip it silently.
        print("spfbuild: note: publish: takes effect in cron mode (flatten --state FILE); nothing was published",
              file=sys.stderr)

    progress = Progress(len(cfg.domains), sys.stderr, "flattened")
    try:
        results = asyncio.run(_flatten_all(cfg, catalogue, resolver, progress.advance, jobs))
    finally:
        progress.clear()
    done = [r for r in results if not isinstance(r, DomainFailure)]
    for item in done:
        _advise(item)
    if explain:
        for item in done:
            print(shown_lines(explanation(item)), file=sys.stderr)
    # One domain's failure is that domain's alone: the others are emitted, then the failures reported.
    if done:
        emit_sets([_with_details(r) for r in done], fmt, output)
    return report_failures([r for r in results if isinstance(r, DomainFailure)])


async def _flatten_all(cfg: Config, catalogue: Catalogue, resolver: Resolver,
                       on_done: Callable[[], None] | None = None, jobs: int = 0) -> list[Flattened | DomainFailure]:
    from spfbuild.flattening import flatten_all

    return await flatten_all(cfg.domains, catalogue, resolver, on_done=on_done, jobs=jobs)


def _with_details(item: Flattened) -> RecordSet:
    extra = {
        "lookups": item.lookups,
        "kept": list(item.kept),
        "kept_because": dict(item.why_kept),
        "flattened": list(item.flattened),
        "self_checked_addresses": item.checked,
        "origins": {term: list(sources) for term, sources in item.origins},
    }
    if item.alignment:
        extra["alignment"] = list(item.alignment)
    if item.compiled is not None:
        from spfbuild.compiled.report import summary

        extra["compiled"] = summary(item.compiled)
    return replace(item.record_set, extra=extra)


def _advise(item: Flattened) -> None:
    """What render says beside the records: warnings, then the alignment advice as notes."""
    from spfbuild.idn import both

    for message in item.warnings:
        warn(f"{both(item.domain)}: {message}")
    for message in item.alignment:
        print(shown(f"spfbuild: note: {both(item.domain)}: {message}"), file=sys.stderr)


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
         output: Path | None, explain: bool, jobs: int = 0) -> int:
    """The cron run against the state file `state` (`max_shrink` a share, not a percentage);
    the exit status."""
    from spfbuild.destinations import declared
    from spfbuild.failure import only_dns
    from spfbuild.pushserver import PublishError
    from spfbuild.state import StateError

    try:
        destinations, warnings = declared(cfg, push, tsig_key)
    except PublishError as exc:
        fail(str(exc), EXIT_USAGE)
    for warning in warnings:
        warn(warning)

    def write(sets: Sequence[RecordSet], changed: bool, failed: frozenset[str]) -> None:
        if output is None:
            return
        if is_directory(output, fmt):  # files of failed domains stay as they are
            write_domain_files([s for s in sets if s.domain not in failed], fmt, output)
        elif changed or not output.exists():
            emit_sets(sets, fmt, output)

    async def cron_run() -> RunResult:
        from spfbuild.cron import CronOptions, run

        options = CronOptions(state, check=check, force=force, max_shrink=max_shrink, publish=destinations,
                              timeout=timeout, jobs=jobs)
        return await run(cfg, catalogue, resolver, options, None if check else write, progress.advance)

    progress = Progress(len(cfg.domains), sys.stderr, "flattened")
    try:
        result = asyncio.run(cron_run())
    except StateError as exc:
        fail(str(exc))
    finally:
        progress.clear()
    for outcome in result.outcomes:
        stream = sys.stderr if outcome.status == "error" else sys.stdout
        for line in outcome.lines:
            print(shown(line), file=stream)
        for warning in outcome.warnings:
            warn(warning)
        if outcome.status == "changed" and outcome.flattened is not None:  # an unchanged run prints nothing
            _advise(outcome.flattened)
        if explain and outcome.flattened is not None and outcome.status != "unchanged":
            print(shown_lines(explanation(outcome.flattened)), file=sys.stderr)
    if output is None and result.changed and not check:
        good = {o.domain for o in result.outcomes if o.status != "error"}
        emit_sets([s for s in result.record_sets if s.domain in good], fmt, None)
    if result.failed:
        return EXIT_DNS if only_dns(result.failures) else EXIT_ERROR
    if check and result.changed:
        return EXIT_CHANGES
    return EXIT_OK
