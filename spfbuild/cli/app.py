"""The typer application object; command modules register themselves on it."""

import typer

app = typer.Typer(
    name="spfbuild",
    help="Build, flatten, validate and publish SPF (RFC 7208) records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
