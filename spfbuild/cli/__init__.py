"""Command-line interface. Commands stay thin: parse options, call the library, print."""

from __future__ import annotations

from spfbuild.cli.app import app


def _register() -> None:
    # Importing a command module registers its command on `app`.
    from spfbuild.cli import lint, rules  # noqa: F401


def main() -> None:
    _register()
    app()
