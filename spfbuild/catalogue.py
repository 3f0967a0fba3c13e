"""The provider catalogue: what each mail sender asks to be put in an SPF record.

Each provider is one YAML file (``providers/<id>.yaml``). This module loads and checks those files
and answers questions such as "which include does Mimecast's EU region use?". It never prints and
never exits: every problem is raised as a :class:`CatalogueError`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

import yaml

from spfbuild.errors import SPFBuildError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CATEGORIES", "Catalogue", "CatalogueError", "Provider", "SchemaError", "UnknownProviderError",
    "UnknownRegionError", "UnknownVariantError", "default_directory", "load_catalogue",
]

CATEGORIES = frozenset(
    {"mailbox", "security-gateway", "transactional", "marketing", "helpdesk", "crm", "hosting", "other"}
)

_REQUIRED = ("id", "name", "aliases", "category", "description", "documentation", "lookups", "keep",
             "custom_return_path", "return_path_note")
_OPTIONAL = ("include", "ip4", "ip6", "regions", "default_region", "covers", "variants", "keep_reason",
             "notes", "region_lookups")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Underscores are allowed because SPF include targets are often names like _spf.example.com.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")

Pairs = tuple[tuple[str, str], ...]


class CatalogueError(SPFBuildError):
    """Base class of every error raised by this module."""


class SchemaError(CatalogueError):
    """A provider file is malformed; ``path`` and ``key`` say where."""

    def __init__(self, path: Path, key: str | None, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")


def _did_you_mean(word: str, choices: list[str]) -> list[str]:
    import difflib  # only for a mistake: an import that start-up need not pay

    return difflib.get_close_matches(word, choices, n=3, cutoff=0.6)


def _hint(suggestions: list[str]) -> str:
    return f"; did you mean '{suggestions[0]}'?" if suggestions else ""


class UnknownProviderError(CatalogueError, LookupError):
    """No provider has this id or alias."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.suggestions = name, _did_you_mean(name, known)
        super().__init__(f"unknown provider '{name}'{_hint(self.suggestions)}")


class UnknownRegionError(CatalogueError, LookupError):
    """A region was asked of a provider that does not have it (or has no regions at all)."""

    def __init__(self, provider: str, region: str | None, valid: tuple[str, ...], why: str = "") -> None:
        self.provider, self.region, self.valid = provider, region, valid
        self.suggestions = _did_you_mean(region, list(valid)) if region else []
        if not valid:
            message = f"provider '{provider}' has no regions; do not give one (got '{region}')"
        else:
            what = why or f"unknown region '{region}' for provider '{provider}'"
            message = f"{what}{_hint(self.suggestions)} (valid regions: {', '.join(valid)})"
        super().__init__(message)


class UnknownVariantError(CatalogueError, LookupError):
    """A variant name that the provider does not define."""

    def __init__(self, provider: str, variant: str, valid: tuple[str, ...]) -> None:
        self.provider, self.variant, self.valid = provider, variant, valid
        self.suggestions = _did_you_mean(variant, list(valid))
        listed = ", ".join(valid) if valid else "none"
        super().__init__(
            f"unknown variant '{variant}' for provider '{provider}'{_hint(self.suggestions)}"
            f" (valid variants: {listed})"
        )


@dataclass(frozen=True)
class Provider:
    """One mail sender. Mappings are stored as tuples of pairs so that a Provider stays hashable."""

    id: str
    name: str
    aliases: tuple[str, ...]
    category: str
    description: str
    documentation: str
    lookups: int
    keep: bool
    custom_return_path: bool
    return_path_note: str
    include: str | None = None
    ip4: tuple[str, ...] = ()
    ip6: tuple[str, ...] = ()
    regions: Pairs = ()
    default_region: str | None = None
    covers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    variants: tuple[tuple[str, Pairs], ...] = ()
    keep_reason: str | None = None
    notes: str = ""
    region_lookups: tuple[tuple[str, int], ...] = ()  # where a region's tree costs other than `lookups`

    def lookups_for(self, region: str | None = None) -> int:
        """The lookup cost of one region's include tree (the default region when None)."""
        chosen = region if region is not None else self.default_region
        return dict(self.region_lookups).get(chosen or "", self.lookups)

    @property
    def names(self) -> tuple[str, ...]:
        """The id followed by every alias."""
        return (self.id, *self.aliases)

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(region for region, _ in self.regions)

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(variant for variant, _ in self.variants)

    def regions_map(self, variant: str | None = None) -> dict[str, str]:
        """Region -> include domain, for the plain netblocks or for ``variant``; a fresh dict."""
        if variant is None:
            return dict(self.regions)
        for name, pairs in self.variants:
            if name == variant:
                return dict(pairs)
        raise UnknownVariantError(self.id, variant, self.variant_names)

    def _region(self, region: str | None) -> str:
        valid = self.region_names
        if not valid:
            if region is not None:
                raise UnknownRegionError(self.id, region, valid)
            return ""
        if region is None:
            if self.default_region is None:
                raise UnknownRegionError(
                    self.id, None, valid, why=f"provider '{self.id}' has no default region; choose one"
                )
            return self.default_region
        if region not in valid:
            raise UnknownRegionError(self.id, region, valid)
        return region

    def include_for(self, region: str | None = None, variant: str | None = None) -> tuple[str, ...]:
        """The include domain(s) to authorise this provider; ``region=None`` means the default region.

        A provider without regions returns its single include (or nothing when it is only fixed
        ip4/ip6 ranges), and refuses any region.
        """
        chosen = self._region(region)
        if not chosen:
            if variant is not None:
                raise UnknownVariantError(self.id, variant, self.variant_names)
            return (self.include,) if self.include else ()
        table = self.regions_map(variant)
        if chosen not in table:
            why = f"variant '{variant}' of provider '{self.id}' has no region '{chosen}'"
            raise UnknownRegionError(self.id, chosen, tuple(table), why=why)
        return (table[chosen],)

    def covered_regions(self, region: str | None = None) -> frozenset[str]:
        """The regions that ``region`` supersedes (not counting itself); empty when it covers none."""
        chosen = self._region(region)
        return frozenset(dict(self.covers).get(chosen, ()))


@dataclass(frozen=True)
class Catalogue:
    """All providers, by id, with lookup by id or alias."""

    providers: tuple[Provider, ...]
    directory: Path | None = field(default=None, compare=False)
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

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(provider.id for provider in self.providers)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._normalise(name) in self._index

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.providers)

    def __len__(self) -> int:
        return len(self.providers)


# --- loading -------------------------------------------------------------------------------------


def default_directory() -> Path:
    """Where the shipped provider files are: the wheel's copy first, then a source checkout's."""
    here = Path(__file__).resolve().parent
    candidates = (here / "providers", here.parent / "providers")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise CatalogueError("provider catalogue not found; looked in " + ", ".join(map(str, candidates)))


@functools.cache
def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load and check every ``*.yaml`` file in ``directory`` (default: the shipped catalogue)."""
    folder = default_directory() if directory is None else Path(directory)
    if not folder.is_dir():
        raise CatalogueError(f"{folder}: provider directory does not exist")
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise CatalogueError(f"{folder}: no provider files (*.yaml) found")
    providers = [_load_file(path) for path in files]
    _check_unique_names(providers, files)
    return Catalogue(tuple(sorted(providers, key=lambda p: p.id)), directory=folder)


def _check_unique_names(providers: list[Provider], files: list[Path]) -> None:
    owner: dict[str, Path] = {}
    for provider, path in zip(providers, files, strict=True):
        for name in provider.names:
            if name in owner:
                key = "id" if name == provider.id else "aliases"
                raise SchemaError(path, key, f"'{name}' is already used by {owner[name].name}")
            owner[name] = path


# libyaml's loader when PyYAML has it: loading the catalogue is most of `spfbuild render`'s work.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_file(path: Path) -> Provider:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(path, None, f"cannot read file: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        try:  # again with the pure-Python loader, whose message quotes the line
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SchemaError(path, None, f"invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaError(path, None, "top level must be a mapping of keys to values")
    return _Checker(path, data).provider()


class _Checker:
    """Turns one parsed file into a Provider, raising SchemaError at the first problem."""

    def __init__(self, path: Path, data: dict[Any, Any]) -> None:
        self.path, self.data = path, data

    def fail(self, key: str | None, problem: str) -> SchemaError:
        return SchemaError(self.path, key, problem)

    def text(self, key: str, *, optional: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value.strip()

    def slug(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not _SLUG.fullmatch(value):
            raise self.fail(key, f"{value!r} must be lower-case letters and digits joined by hyphens")
        return value

    def domain(self, key: str, value: object) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"{value!r} must be a domain name")
        name = value.strip().lower().rstrip(".")
        labels = name.split(".")
        tld_ok = labels[-1].isalpha() or labels[-1].startswith("xn--")  # IDN TLDs are punycode
        if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(lb) for lb in labels) or not tld_ok:
            raise self.fail(key, f"{value!r} is not a valid domain name")
        return name

    def string_list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        return value

    def mapping(self, key: str, value: object) -> dict[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        return value

    def region_table(self, key: str, value: object) -> Pairs:
        return tuple((self.slug(key, region), self.domain(f"{key}.{region}", target))
                     for region, target in self.mapping(key, value).items())

    def networks(self, key: str, version: int) -> tuple[str, ...]:
        result = []
        for item in self.string_list(key):
            try:
                network = ipaddress.ip_network(str(item), strict=False)
            except ValueError:
                network = None
            if network is None or network.version != version or not isinstance(item, str):
                raise self.fail(key, f"{item!r} is not an IPv{version} address or range")
            result.append(item)
        return tuple(result)

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def provider(self) -> Provider:
        data = self.data
        unknown = sorted(str(k) for k in data if k not in _REQUIRED and k not in _OPTIONAL)
        if unknown:
            raise self.fail(unknown[0], "unknown key (allowed: " + ", ".join(_REQUIRED + _OPTIONAL) + ")")
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise self.fail(missing[0], "missing required key")

        ident = self.slug("id", data["id"])
        if ident != self.path.stem:
            raise self.fail("id", f"'{ident}' must equal the file name stem '{self.path.stem}'")
        aliases = tuple(self.slug("aliases", a) for a in self.string_list("aliases"))
        if ident in aliases or len(set(aliases)) != len(aliases):
            raise self.fail("aliases", "must not repeat the id or an alias")
        category = self.text("category")
        if category not in CATEGORIES:
            raise self.fail("category", f"{category!r} is not one of: {', '.join(sorted(CATEGORIES))}")
        documentation = self.text("documentation") or ""
        url = urlsplit(documentation)
        if url.scheme != "https" or not url.netloc:
            raise self.fail("documentation", f"{documentation!r} must be an https:// URL")
        lookups = data["lookups"]
        if isinstance(lookups, bool) or not isinstance(lookups, int) or lookups < 0:
            raise self.fail("lookups", "must be a whole number, 0 or more")

        include = None if data.get("include") is None else self.domain("include", data["include"])
        ip4, ip6 = self.networks("ip4", 4), self.networks("ip6", 6)
        regions = self.region_table("regions", data.get("regions"))
        if include and regions:
            raise self.fail("include", "give either include or regions, not both")
        if not (include or regions or ip4 or ip6):
            raise self.fail("include", "one of include, regions, ip4 or ip6 is required")
        names = {region for region, _ in regions}

        default = self.text("default_region", optional=True)
        if default is not None and default not in names:
            valid = ", ".join(sorted(names)) or "none"
            raise self.fail("default_region", f"'{default}' is not among the regions ({valid})")
        covers = []
        for region, covered in self.mapping("covers", data.get("covers")).items():
            if (region not in names or not isinstance(covered, list)
                    or not all(isinstance(c, str) for c in covered) or not set(covered) <= names - {region}):
                raise self.fail(f"covers.{region}", "must map a region to a list of its other regions")
            covers.append((region, tuple(covered)))
        variants = []
        for variant, table in self.mapping("variants", data.get("variants")).items():
            key = f"variants.{self.slug('variants', variant)}"
            pairs = self.region_table(key, table)
            if not pairs or not {region for region, _ in pairs} <= names:
                raise self.fail(key, "must map some of the provider's regions to include domains")
            variants.append((variant, pairs))

        region_lookups = []
        for region, cost in self.mapping("region_lookups", data.get("region_lookups")).items():
            if region not in names or isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
                raise self.fail(f"region_lookups.{region}", "must map one of the regions to a whole number")
            region_lookups.append((region, cost))

        keep = self.flag("keep")
        keep_reason = self.text("keep_reason", optional=True)
        if keep and keep_reason is None:
            raise self.fail("keep_reason", "is required when keep is true")
        if not keep and keep_reason is not None:
            raise self.fail("keep_reason", "must be omitted or null when keep is false")
        custom_return_path = self.flag("custom_return_path")
        note = self.text("return_path_note") or ""
        lowered = note.lower()
        if not custom_return_path and not all(w in lowered for w in ("dmarc", "spf", "align")):
            raise self.fail("return_path_note", "must say that mail cannot pass DMARC through SPF alignment")
        notes = data.get("notes")
        if notes is not None and not isinstance(notes, str):
            raise self.fail("notes", "must be text")

        return Provider(
            id=ident, name=self.text("name") or "", aliases=aliases, category=category,
            description=self.text("description") or "", documentation=documentation, lookups=lookups,
            keep=keep, custom_return_path=custom_return_path, return_path_note=note, include=include,
            ip4=ip4, ip6=ip6, regions=regions, default_region=default, covers=tuple(covers),
            variants=tuple(variants), keep_reason=keep_reason, notes=(notes or "").strip(),
            region_lookups=tuple(region_lookups),
        )
