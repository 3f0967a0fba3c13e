"""`spfbuild render`: senders.yaml -> validated SPF record, offline."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_USAGE, fail, warn
from spfbuild.cli.options import ConfigArgument, Format, FormatOption, OutputOption, ProvidersOption


@app.command()
def render(
    config: ConfigArgument,
    fmt: FormatOption = Format.txt,
    output: OutputOption = None,
    existing: Annotated[
        str | None, typer.Option("--existing", help='A published record to extend, e.g. "v=spf1 mx ~all".')
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print lint warnings.")] = False,
    providers: ProvidersOption = None,
) -> None:
    """Render the SPF record for each domain in CONFIG, offline, linted before it is emitted.

    Exit status: 0 rendered, 1 a config or record error (nothing is written), 64 usage error.
    """
    from spfbuild.cli.inputs import load
    from spfbuild.cli.output import emit_sets
    from spfbuild.idn import both
    from spfbuild.rendering import Rendered, RenderError, render_domain

    catalogue, cfg = load(config, providers)
    if existing is not None and len(cfg.domains) != 1:
        fail("--existing applies to a config with one domain", EXIT_USAGE)
    rendered: list[Rendered] = []
    errors: list[str] = []
    for spec in cfg.domains:
        try:
            rendered.append(render_domain(spec, catalogue, existing))
        except RenderError as exc:
            errors.append(str(exc))
    if errors:
        for message in errors[:-1]:
            print(f"spfbuild: error: {message}", file=sys.stderr)
        fail(errors[-1] if len(errors) == 1 else f"{errors[-1]} ({len(errors)} domains failed; nothing written)")
    if not quiet:
        for item in rendered:
            for diag in item.diagnostics:
                warn(f"{both(item.spec.domain)}: {diag.code} [{diag.name}] {diag.message}")
            for message in item.warnings:
                warn(f"{both(item.spec.domain)}: {message}")
            for message in (*item.notes, *item.alignment):
                print(f"spfbuild: note: {both(item.spec.domain)}: {message}", file=sys.stderr)
    emit_sets([r.record_set for r in rendered], fmt, output)
