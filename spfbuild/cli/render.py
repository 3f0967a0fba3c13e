"""`spfbuild render`: senders.yaml -> validated SPF record, offline."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_USAGE, fail, report_failures, warn
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

    Every domain that renders is emitted; each one that fails gets one line on stderr.

    Exit status: 0 rendered, 1 a config error or a domain that failed, 64 usage error.
    """
    from spfbuild.cli.inputs import load
    from spfbuild.cli.output import emit_sets
    from spfbuild.failure import DomainFailure, failure
    from spfbuild.idn import both
    from spfbuild.rendering import Rendered, RenderError, render_domain

    catalogue, cfg = load(config, providers)
    if existing is not None and len(cfg.domains) != 1:
        fail("--existing applies to a config with one domain", EXIT_USAGE)
    rendered: list[Rendered] = []
    failures: list[DomainFailure] = []
    for spec in cfg.domains:
        try:
            rendered.append(render_domain(spec, catalogue, existing))
        except RenderError as exc:
            failures.append(failure(spec.domain, str(exc)))
    if not quiet:
        for item in rendered:
            for diag in item.diagnostics:
                warn(f"{both(item.spec.domain)}: {diag.code} [{diag.name}] {diag.message}")
            for message in item.warnings:
                warn(f"{both(item.spec.domain)}: {message}")
            for message in (*item.notes, *item.alignment):
                print(f"spfbuild: note: {both(item.spec.domain)}: {message}", file=sys.stderr)
    # One domain's failure is that domain's alone: the others are emitted, then the failures reported.
    if rendered:
        emit_sets([r.record_set for r in rendered], fmt, output)
    raise typer.Exit(report_failures(failures))
