"""`spfbuild render`: senders.yaml -> validated SPF record, offline (the work is `spfbuild.cli.fast`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli import fast
from spfbuild.cli.app import app
from spfbuild.cli.fast import Format as Format  # re-exported: flatten uses it

if TYPE_CHECKING:
    from spfbuild.emit import RecordSet


FORMAT_OPTION = typer.Option("--format", "-F", help="txt (DNS console value), zone, json or octodns.")
OUTPUT_OPTION = typer.Option(
    "--output", "-o", help="Write to FILE atomically (a directory for octodns with several domains)."
)


@app.command()
def render(
    config: Annotated[Path, typer.Argument(help="senders.yaml: the domain(s) and who sends mail for them.")],
    fmt: Annotated[Format, FORMAT_OPTION] = Format.txt,
    output: Annotated[Path | None, OUTPUT_OPTION] = None,
    existing: Annotated[
        str | None, typer.Option("--existing", help='A published record to extend, e.g. "v=spf1 mx ~all".')
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print lint warnings.")] = False,
    providers: Annotated[
        Path | None, typer.Option("--providers", metavar="DIR", help="A directory of your own provider files.")
    ] = None,
) -> None:
    """Render the SPF record for each domain in CONFIG, offline, linted before it is emitted.

    Exit status: 0 rendered, 1 a config or record error (nothing is written), 2 usage error.
    """
    from spfbuild.cli.fast import render_command

    raise typer.Exit(render_command(config, fmt, output, existing, quiet, providers))


def emit_sets(sets: Sequence[RecordSet], fmt: Format, output: Path | None) -> None:
    """Print or atomically write record sets in the chosen format (shared with flatten)."""
    try:
        fast.emit_sets(sets, fmt, output)
    except fast.CommandExit as done:
        raise typer.Exit(done.code) from None
