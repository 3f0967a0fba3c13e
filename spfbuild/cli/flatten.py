"""`spfbuild flatten`: resolve the senders' trees and emit exact ip4/ip6 records within the limits."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import fail
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
) -> None:
    """Flatten each domain's senders into ip4/ip6 ranges (and chained records) within the lookup budget.

    Every address keeps the result the declared record gives it; a self-check with the evaluator
    refuses to emit otherwise. Exit status: 0 emitted, 1 error (nothing written), 2 usage error.
    """
    from spfbuild.catalogue import CatalogueError, load_catalogue
    from spfbuild.config import ConfigError, load_config

    resolver = make_resolver(nameserver, timeout)
    try:
        catalogue = load_catalogue()
        cfg = load_config(config, catalogue)
    except (ConfigError, CatalogueError) as exc:
        fail(str(exc))
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

    catalogue = load_catalogue()
    return list(await asyncio.gather(*(_one(spec, catalogue, resolver) for spec in cfg.domains)))


async def _one(spec: object, catalogue: object, resolver: Resolver) -> Flattened | str:
    from spfbuild.compose import ComposeError
    from spfbuild.flatten import FlattenError, flatten_domain

    try:
        return await flatten_domain(spec, catalogue, resolver)  # type: ignore[arg-type]
    except (FlattenError, ComposeError) as exc:
        message = str(exc)
        domain = getattr(spec, "domain", "")
        return message if message.startswith(f"{domain}:") else f"{domain}: {message}"


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
