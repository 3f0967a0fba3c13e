"""What every command shares at its end: the exit codes (CONTRACTS.md's table, which scripts
depend on) and one-line messages on stderr (control characters in them shown escaped)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

import typer

from spfbuild.printable import shown

if TYPE_CHECKING:
    from spfbuild.failure import DomainFailure

EXIT_OK = 0  # done; nothing to report or nothing changed
EXIT_ERROR = 1  # a problem in the data: a lint error, a refused record, an error finding, a failed domain
EXIT_CHANGES = 2  # changes pending (`flatten --check`)
EXIT_DNS = 3  # a DNS or network failure: nothing was changed
EXIT_USAGE = 64  # an unknown option, a bad value, a missing or unreadable input file (BSD's EX_USAGE)

# The table every command's --help ends with, and README's "Exit codes" section (`\b` keeps
# click from rewrapping it).
EXIT_CODES_HELP = """\b
Exit codes (every command):
  0   done; nothing to report or nothing changed
  1   a problem in the data: a lint error, a refused record, an error-level
      finding, a domain that failed
  2   changes pending (flatten --check, diff)
  3   DNS or network failure (temperror, unreachable server, TSIG refused):
      nothing was changed
  64  usage error: unknown or misspelt option, bad value, missing or
      unreadable input file
eval exits 0 whenever it produced a result, 1 with --expect when it differs."""


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one clear line to stderr and end the command; never a traceback."""
    print(f"spfbuild: error: {shown(message)}", file=sys.stderr)
    raise typer.Exit(code)


def warn(message: str) -> None:
    print(f"spfbuild: warning: {shown(message)}", file=sys.stderr)


def report_failures(failures: Sequence[DomainFailure]) -> int:
    """One stderr line per failed domain; the exit status: 3 when every failure is a DNS or
    network failure, 1 when any is a problem in the data, 0 without failures."""
    from spfbuild.failure import only_dns

    for item in failures:
        print(f"spfbuild: error: {shown(item.message)}", file=sys.stderr)
    if not failures:
        return EXIT_OK
    return EXIT_DNS if only_dns(failures) else EXIT_ERROR
