"""The provider catalogue: every provider (`spfbuild.provider`), found by id or alias, from the
bundled directory and the users' own.

Each provider is one YAML file (``providers/<id>.yaml``, checked by
:mod:`spfbuild.provider_schema`). Users add or override providers with directories of their own
(``--providers DIR``, ``SPFBUILD_PROVIDERS``, a ``providers/`` directory beside the config), in
the same schema. This module never prints and never exits: every problem is a
:class:`CatalogueError`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from spfbuild.provider import CatalogueError, Provider, SchemaError, UnknownProviderError

__all__ = ["ENV_VARIABLE", "Catalogue", "default_directory", "load_catalogue", "load_for", "user_directories"]

ENV_VARIABLE = "SPFBUILD_PROVIDERS"  # directories of users' own provider files, os.pathsep-separated
BESIDE_CONFIG = "providers"  # a directory of that name beside the config file


@dataclass(frozen=True)
class Catalogue:
    """All providers, by id, with lookup by id or alias."""

    providers: tuple[Provider, ...]
    directory: Path | None = field(default=None, compare=False)
    user_directories: tuple[Path, ...] = field(default=(), compare=False)
    _index: Mapping[str, Provider] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index = {name: provider for provider in self.providers for name in provider.names}
        object.__setattr__(self, "_index", MappingProxyType(index))

    @staticmethod
    def _normalise(name: str) -> str:
        return name.strip().lower().replace("_", "-").replace(" ", "-")

    def get(self, name: str) -> Provider:
        """The provider whose id or alias is ``name`` (case, spaces and underscores forgiven)."""
        provider = self._index.get(self._normalise(name))
        if provider is None:
            raise UnknownProviderError(name.strip(), sorted(self._index))
        return provider

    def resolve(self, name: str) -> str:
        """The canonical id for an id or alias."""
        return self.get(name).id

    def search(self, word: str) -> tuple[Provider, ...]:
        """Providers whose id, name, alias or include contains `word` (case-insensitive)."""
        needle = word.strip().lower()
        if not needle:
            return ()

        def matches(p: Provider) -> bool:
            haystack = (p.id, p.name.lower(), *p.aliases, *(target for _, target in p.targets()))
            return any(needle in text for text in haystack)

        return tuple(p for p in self.providers if matches(p))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(provider.id for provider in self.providers)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._normalise(name) in self._index

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.providers)

    def __len__(self) -> int:
        return len(self.providers)


# --- locating the data ---------------------------------------------------------------------------


def default_directory() -> Path:
    """Where the shipped provider files are: the wheel's copy first, then a source checkout's."""
    here = Path(__file__).resolve().parent
    candidates = (here / "providers", here.parent / "providers")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise CatalogueError("provider catalogue not found; looked in " + ", ".join(map(str, candidates)))


def user_directories(option: Path | None = None, config: Path | None = None,
                     environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Users' provider directories, weakest first (a later one overrides an earlier one): a
    ``providers/`` directory beside the config when there is one, then ``SPFBUILD_PROVIDERS``,
    then ``--providers``. A directory named explicitly must exist (checked when loading)."""
    found: list[Path] = []
    if config is not None:
        beside = Path(config).resolve().parent / BESIDE_CONFIG
        if beside.is_dir():
            found.append(beside)
    variable = (os.environ if environ is None else environ).get(ENV_VARIABLE, "")
    found += [Path(part) for part in variable.split(os.pathsep) if part]
    if option is not None:
        found.append(Path(option))
    return tuple(found)


def load_for(option: Path | None = None, config: Path | None = None) -> Catalogue:
    """The catalogue a command uses: the shipped providers with the user's directories on top."""
    return load_catalogue(extra=user_directories(option, config))


@functools.cache
def load_catalogue(directory: Path | None = None, *, extra: tuple[Path, ...] = ()) -> Catalogue:
    """Load and check every ``*.yaml`` file in ``directory`` (default: the shipped catalogue),
    then the files of each directory in ``extra``, each adding providers or replacing one with
    the same id."""
    from spfbuild.provider_schema import read_provider_file

    folder = default_directory() if directory is None else Path(directory)
    files = _provider_files(folder, bundled=True)
    if directory is None:  # the shipped files: parsed once, then kept like bytecode
        from spfbuild.provider_cache import read_cached
        from spfbuild.provider_schema import checked_provider, read_provider_data

        shipped = read_cached(folder, files, read_provider_data, checked_provider)
    else:
        shipped = [read_provider_file(path) for path in files]
    by_id = {p.id: p for p in shipped}
    users: list[Path] = []
    for user in extra:
        if Path(user).resolve() == folder.resolve() or Path(user).resolve() in users:
            continue  # the shipped directory (or one already read) overrides nothing
        users.append(Path(user).resolve())
        for path in _provider_files(Path(user), bundled=False):
            provider = read_provider_file(path)
            replaced = by_id.get(provider.id)
            if replaced is not None:
                from dataclasses import replace

                provider = replace(provider, overrides=replaced.overrides or replaced.origin)
            by_id[provider.id] = provider
    providers = sorted(by_id.values(), key=lambda p: p.id)
    _check_unique_names(providers)
    return Catalogue(tuple(providers), directory=folder, user_directories=tuple(users))


def _provider_files(folder: Path, *, bundled: bool) -> list[Path]:
    if not folder.is_dir():
        raise CatalogueError(f"{folder}: provider directory does not exist")
    files = sorted(folder.glob("*.yaml"))
    if not files and bundled:
        raise CatalogueError(f"{folder}: no provider files (*.yaml) found")
    return files


def _check_unique_names(providers: list[Provider]) -> None:
    owner: dict[str, Provider] = {}
    for provider in providers:
        for name in provider.names:
            other = owner.get(name)
            if other is not None:
                path = provider.origin or Path(provider.id)
                key = "id" if name == provider.id else "aliases"
                where = other.origin.name if other.origin else other.id
                raise SchemaError(path, key, f"'{name}' is already used by {where}")
            owner[name] = provider
