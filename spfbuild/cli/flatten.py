"""`spfbuild flatten`: resolve the senders' trees and emit exact ip4/ip6 records within the limits
(the work is `spfbuild.cli.flattening`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.dnsopts import DEFAULT_TIMEOUT, NameserverOption, TimeoutOption
from spfbuild.cli.render import FORMAT_OPTION, OUTPUT_OPTION, Format


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
    providers: Annotated[
        Path | None, typer.Option("--providers", metavar="DIR", help="A directory of your own provider files.")
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
    from spfbuild.cli.flattening import FlattenOptions, flatten_command

    options = FlattenOptions(config, fmt=fmt, output=output, explain=explain, nameservers=tuple(nameserver or ()),
                             timeout=timeout, state=state, check=check, force=force, max_shrink=max_shrink, push=push,
                             tsig_key=tsig_key, providers=providers)
    raise typer.Exit(flatten_command(options))
