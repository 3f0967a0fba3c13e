"""Command-line interface: one typer app (`spfbuild.cli.app`), one small module per command.

Commands stay thin: parse options, call the library, print. Each command module imports what
its work needs inside the command, so that starting one command loads no other's dependencies
(`lint`, `render`, `rules` and `providers` never load asyncio, dnspython or netaddr).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def application() -> typer.Typer:
    """The typer app with every command registered on it."""
    # Importing a command module registers its command on `app`.
    from spfbuild.cli import check as _check  # noqa: F401
    from spfbuild.cli import diff as _diff  # noqa: F401
    from spfbuild.cli import eval as _eval  # noqa: F401
    from spfbuild.cli import flatten, lint, providers, render, rules  # noqa: F401
    from spfbuild.cli.app import app

    return app


def main() -> None:
    # Undecodable input must come back out as escapes, never as an encoding traceback.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    # Octets that are not UTF-8 on stdin become findings (SPF113), not decoding errors.
    stdin_reconfigure = getattr(sys.stdin, "reconfigure", None)
    if stdin_reconfigure is not None:
        stdin_reconfigure(errors="surrogateescape")
    # Bulk runs (check --from-file, flatten's self-check) make millions of short-lived objects
    # beside large caches, and almost none of them in reference cycles: nearly everything a young
    # collection scans survives it (the run's graph and results, live to the end), so with the
    # default thresholds a third of such a run is cycle collection. One young collection per
    # million surviving objects bounds the cyclic garbage a run can hold (exceptions' tracebacks)
    # and spares a flatten of 1,000 client domains its dozen collections (about 0.3 s of 2.5 s);
    # a bulk check of 10,000 domains peaks at 153 MB instead of 119 MB.
    gc.set_threshold(1_000_000, 1000, 10)
    try:
        application()()
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line; SPFBUILD_DEBUG shows the traceback
        if os.environ.get("SPFBUILD_DEBUG"):
            raise
        print(f"spfbuild: internal error: {type(exc).__name__}: {exc} (SPFBUILD_DEBUG=1 shows details)",
              file=sys.stderr)
        sys.exit(1)
    finally:
        # The process ends here. Interpreter shutdown would run one last cycle collection over
        # every object the run made (about 25 ms after a flatten) to free memory the exit frees
        # anyway; frozen objects are left to it. Files, sockets and the lock are closed already.
        gc.freeze()
