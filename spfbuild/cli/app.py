"""The typer application object; command modules register themselves on it."""

import os

# Plain click output: usage errors stay short lines, and start-up skips importing rich.
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer

app = typer.Typer(
    name="spfbuild",
    help="Build, flatten, validate and publish SPF (RFC 7208) records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
