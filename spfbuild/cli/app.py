"""The typer application, the one parser of spfbuild's command line.

Command modules register their commands on `app`; `spfbuild.cli.application()` imports them
all. However the app is run (the console script, a test's CliRunner), a usage error, click's
own or a value an option's parser refuses, ends as one `spfbuild: error: ...` line and exit
status 64 instead of click's usage block and status 2.
"""

from __future__ import annotations

import os

# Plain click output: usage errors stay short lines, and start-up skips importing rich.
os.environ.setdefault("TYPER_USE_RICH", "0")

import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from spfbuild.cli.common import EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE
from spfbuild.printable import shown

_F = TypeVar("_F", bound=Callable[..., Any])

# click's UsageError, the base of every parsing error: typer exports only its subclass BadParameter.
_UsageError: type[Exception] = typer.BadParameter.__mro__[1]


class BadValue(typer.BadParameter):
    """A value an option's parser refuses. The message completes the option's name, as in
    `--timeout must be a positive number of seconds, not 0`."""


class _Group(TyperGroup):
    def main(  # type: ignore[override]  # click's signature, narrowed to what spfbuild passes
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _UsageError as exc:
            print(f"spfbuild: error: {usage_message(exc)}", file=sys.stderr)
            code = EXIT_USAGE
        if standalone_mode:
            sys.exit(code or EXIT_OK)
        return code


class _Command(TyperCommand):
    """Usage lines as manual pages write them: `CONFIG`, `[RECORD]`, `[DOMAIN]...` (typer's own
    are `{CONFIG}` and `[[DOMAIN]...]...`)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                continue
            name = (param.metavar or param.name or "").strip("[].").upper()
            name = name if param.required else f"[{name}]"
            pieces.append(f"{name}..." if param.nargs != 1 else name)
        return pieces


class App(typer.Typer):
    """spfbuild's typer application: every command gets spfbuild's usage line and, below its
    help, the exit-code table."""

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None,
                epilog: str | None = None, **extra: Any) -> Callable[[_F], _F]:
        return super().command(name, cls=cls or _Command, epilog=epilog or EXIT_CODES_HELP, **extra)


app = App(
    cls=_Group,
    epilog=EXIT_CODES_HELP,
    name="spfbuild",
    help="Build, flatten, validate and publish SPF (RFC 7208) records.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Print spfbuild's version and exit.")] = False,
) -> None:
    if version:
        from importlib.metadata import version as installed

        print(f"spfbuild {installed('spfbuild')}")
        raise typer.Exit(EXIT_OK)
    if ctx.invoked_subcommand is None:  # no command is a usage error: say which there are
        print(ctx.get_help(), file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)


def usage_message(exc: Exception) -> str:
    """A usage error in spfbuild's words, on one line, with where to look for help."""
    kind = type(exc).__name__  # click's classes, which typer does not export, by their stable names
    param = getattr(exc, "param", None)
    if isinstance(exc, BadValue):
        text = f"{_param_name(param)} {exc.message}"
    elif kind == "NoSuchOption":
        text = f"unknown option {exc.option_name!r}"  # type: ignore[attr-defined]
        possible = sorted(exc.possibilities or ())  # type: ignore[attr-defined]
        if possible:
            text += f"; did you mean {' or '.join(possible)}?"
    elif kind == "MissingParameter" and param is not None:
        text = f"missing {param.param_type_name} {_param_name(param)}"
    elif isinstance(exc, typer.BadParameter):
        text = f"{_param_name(param)}: {_sentence(exc.message)}"
    else:
        text = _sentence(exc.format_message())  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and not isinstance(exc, BadValue):  # a refused value needs no tour of the options
        text += f" (see {ctx.command_path} --help)"
    return shown(text)


def _param_name(param: Any) -> str:
    if param is None:
        return "a value"
    if param.param_type_name == "option":
        return str(max(param.opts, key=len))  # --format rather than -F
    return str(param.metavar or param.name.upper())


def _sentence(text: str) -> str:
    """click's sentences as one clause: one line, lower-case starts, joined by "; ", no final full stop."""
    parts = " ".join(text.split()).rstrip(".").split(". ")
    return "; ".join(part[:1].lower() + part[1:] if part[1:2].islower() else part for part in parts)
