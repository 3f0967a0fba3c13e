"""Command-line interface. Commands stay thin: parse options, call the library, print."""

from __future__ import annotations

import os
import sys


def _register() -> None:
    # Importing a command module registers its command on `app`.
    from spfbuild.cli import check as _check  # noqa: F401
    from spfbuild.cli import eval as _eval  # noqa: F401
    from spfbuild.cli import flatten, lint, providers, render, rules  # noqa: F401


def main() -> None:
    # Undecodable input must come back out as escapes, never as an encoding traceback.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        from spfbuild.cli import fast

        fast.run(sys.argv[1:])  # plain `lint` and `render` run here, without importing typer, and exit
        _register()
        from spfbuild.cli.app import app

        app(standalone_mode=True)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line; SPFBUILD_DEBUG shows the traceback
        if os.environ.get("SPFBUILD_DEBUG"):
            raise
        print(f"spfbuild: internal error: {type(exc).__name__}: {exc} (SPFBUILD_DEBUG=1 shows details)",
              file=sys.stderr)
        sys.exit(1)
