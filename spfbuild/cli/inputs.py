"""Reading a command's input files: a config that cannot be opened is a usage error (exit 64),
one that can but says something wrong is a data error (exit 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spfbuild.cli.common import EXIT_USAGE, fail

if TYPE_CHECKING:
    from pathlib import Path

    from spfbuild.catalogue import Catalogue
    from spfbuild.config import Config


def load(config: Path, providers: Path | None) -> tuple[Catalogue, Config]:
    """The provider catalogue (the shipped providers, then the user's: `providers`, beside
    `config`...) and the config at `config`, or a one-line error."""
    from spfbuild.catalogue import load_for
    from spfbuild.config import ConfigError, load_config
    from spfbuild.provider import CatalogueError

    try:
        with config.open("rb"):
            pass
    except OSError as exc:
        fail(f"{config}: cannot read: {exc.strerror or exc}", EXIT_USAGE)
    if providers is not None and not providers.is_dir():  # a missing input, like a missing config
        fail(f"{providers}: provider directory does not exist", EXIT_USAGE)
    try:
        catalogue = load_for(providers, config)
        return catalogue, load_config(config, catalogue)
    except (ConfigError, CatalogueError) as exc:
        fail(str(exc))
