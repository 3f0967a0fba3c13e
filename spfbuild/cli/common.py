"""Small helpers shared by the command modules: one-line errors and exit codes."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one clear line to stderr and exit; never a traceback."""
    print(f"spfbuild: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def warn(message: str) -> None:
    print(f"spfbuild: warning: {message}", file=sys.stderr)
