"""The work of `spfbuild flatten`, without typer: the typer command (`spfbuild.cli.flatten`) and
the fast way in (`spfbuild.cli.fast`) both call `flatten_command`."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, replace

from spfbuild.cli.fast import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CommandExit, Format, emit_sets, fail, warn
from spfbuild.cli.resolving import resolver_for
from spfbuild.limits import DEFAULT_TIMEOUT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from spfbuild.catalogue import Catalogue
    from spfbuild.config import Config
    from spfbuild.cron import RunResult
    from spfbuild.dns import Resolver
    from spfbuild.emit import RecordSet
    from spfbuild.flattening import Flattened

EXIT_WOULD_CHANGE = 2  # --check


@dataclass(frozen=True)
class FlattenOptions:
    """`spfbuild flatten`'s options, as the command line gives them."""

    config: Path
    fmt: Format = Format.txt
    output: Path | None = None
    explain: bool = False
    nameservers: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    state: Path | None = None
    check: bool = False
    force: bool = False
    max_shrink: float = 30.0  # percent
    push: str | None = None
    tsig_key: Path | None = None
    providers: Path | None = None  # --providers DIR


def flatten_command(options: FlattenOptions) -> int:
    """`spfbuild flatten`: resolve, flatten, self-check and emit (or, with --state, the cron run);
    the exit status."""
    try:
        return _flatten(options)
    except CommandExit as done:
        return done.code


def _flatten(options: FlattenOptions) -> int:
    from spfbuild.catalogue import CatalogueError, load_for
    from spfbuild.config import ConfigError, load_config

    if (options.check or options.push or options.force) and options.state is None:
        fail("--check, --force and --push need --state FILE", EXIT_USAGE)
    if options.push is not None and options.tsig_key is None:
        fail("--push needs --tsig-key FILE", EXIT_USAGE)
    if not 0 <= options.max_shrink <= 100:
        fail("--max-shrink must be a percentage from 0 to 100", EXIT_USAGE)
    resolver = resolver_for(options.nameservers, options.timeout)
    try:
        catalogue = load_for(options.providers, options.config)
        cfg = load_config(options.config, catalogue)
    except (ConfigError, CatalogueError) as exc:
        fail(str(exc))
    if options.state is not None:
        return _cron(cfg, catalogue, resolver, options)
    results = asyncio.run(_flatten_all(cfg, catalogue, resolver))
    errors = [r for r in results if isinstance(r, str)]
    if errors:
        for message in errors[:-1]:
            print(f"spfbuild: error: {message}", file=sys.stderr)
        fail(errors[-1] if len(errors) == 1 else f"{errors[-1]} ({len(errors)} domains failed; nothing written)")
    done = [r for r in results if not isinstance(r, str)]
    if options.explain:
        for item in done:
            print(explanation(item), file=sys.stderr)
    emit_sets([_with_details(r) for r in done], options.fmt, options.output)
    return EXIT_OK


async def _flatten_all(cfg: Config, catalogue: Catalogue, resolver: Resolver) -> list[Flattened | str]:
    from spfbuild.flattening import flatten_all

    return await flatten_all(cfg.domains, catalogue, resolver)


def _with_details(item: Flattened) -> RecordSet:
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


def _cron(cfg: Config, catalogue: Catalogue, resolver: Resolver, options: FlattenOptions) -> int:
    from spfbuild.publish import PublishError, load_tsig_key, parse_push_url
    from spfbuild.state import StateError

    state = options.state
    assert state is not None
    target = key = None
    try:
        if options.push is not None and options.tsig_key is not None:
            target = parse_push_url(options.push)
            key, warnings = load_tsig_key(options.tsig_key)
            for warning in warnings:
                warn(warning)
    except PublishError as exc:
        fail(str(exc), EXIT_USAGE)
    output = options.output

    def write(sets: Sequence[RecordSet], changed: bool) -> None:
        if output is not None and (changed or not output.exists()):
            emit_sets(sets, options.fmt, output)

    async def cron_run() -> RunResult:
        from spfbuild.cron import CronOptions, run

        cron = CronOptions(state, check=options.check, force=options.force, max_shrink=options.max_shrink / 100,
                           push=target, key=key, timeout=options.timeout)
        return await run(cfg, catalogue, resolver, cron, None if options.check else write)

    try:
        result = asyncio.run(cron_run())
    except StateError as exc:
        fail(str(exc))
    for outcome in result.outcomes:
        stream = sys.stderr if outcome.status == "error" else sys.stdout
        for line in outcome.lines:
            print(line, file=stream)
        if options.explain and outcome.flattened is not None and outcome.status != "unchanged":
            print(explanation(outcome.flattened), file=sys.stderr)
    if result.failed:
        return EXIT_ERROR
    if options.check and result.changed:
        return EXIT_WOULD_CHANGE
    if output is None and result.changed and not options.check:
        emit_sets(result.record_sets, options.fmt, None)
    return EXIT_OK
