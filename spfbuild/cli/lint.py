"""`spfbuild lint`: check SPF record text offline (the work is `spfbuild.cli.fast.lint_command`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spfbuild.cli.app import app


@app.command()
def lint(
    record: Annotated[
        str | None, typer.Argument(help='Record text, e.g. "v=spf1 mx -all", or - to read stdin.')
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read records from FILE, one per line (- for stdin).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of results.")] = False,
) -> None:
    """Lint SPF records offline against every rule (see `spfbuild rules`).

    Exit status: 0 no errors (warnings allowed), 1 at least one error, 2 usage error.
    """
    from spfbuild.cli.fast import lint_command

    raise typer.Exit(lint_command(record, None if file is None else str(file), as_json))
