"""A provider of the catalogue, as data: what a mail sender asks to be put in an SPF record, and
the facts that decide how to publish it (kept literally, macros, MAIL FROM placement, DKIM,
alignment), with the errors of looking one up. `spfbuild.provider_schema` reads a provider file
into a `Provider`; `spfbuild.catalogue` holds them all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from spfbuild.errors import SPFBuildError

CATEGORIES = frozenset(
    {"mailbox", "security-gateway", "transactional", "marketing", "helpdesk", "crm", "hosting", "other"}
)

Pairs = tuple[tuple[str, str], ...]
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


class CatalogueError(SPFBuildError):
    """Base class of the catalogue's errors: a provider file it cannot read, or a lookup in it
    that finds nothing (an unknown provider, region or variant, a missing parameter)."""


class SchemaError(CatalogueError):
    """A provider file is malformed; ``path`` and ``key`` say where."""

    def __init__(self, path: Path, key: str | None, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")


def _did_you_mean(word: str, choices: Iterable[str]) -> list[str]:
    import difflib  # only for a mistake: an import that start-up need not pay

    return difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)


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
        self.suggestions = _did_you_mean(region, valid) if region else []
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
        self.suggestions = _did_you_mean(variant, valid)
        listed = ", ".join(valid) if valid else "none"
        super().__init__(
            f"unknown variant '{variant}' for provider '{provider}'{_hint(self.suggestions)}"
            f" (valid variants: {listed})"
        )


class MissingParameterError(CatalogueError, LookupError):
    """An account-specific include was asked for without one of its parameters (or with a bad one)."""

    def __init__(self, provider: str, parameter: Parameter, problem: str = "") -> None:
        self.provider, self.parameter = provider, parameter.name
        what = problem or f"provider '{provider}' needs '{parameter.name}'"
        super().__init__(f"{what}: {parameter.description} (e.g. {parameter.name}: {parameter.example})")


@dataclass(frozen=True)
class Source:
    """Where facts come from: a page, the day it was read, and how much it can be trusted
    (``primary``: the provider's own documentation; ``secondary``: anyone else's)."""

    url: str
    read: str  # YYYY-MM-DD
    confidence: str  # "primary" or "secondary"
    facts: tuple[str, ...]  # see provider_schema.FACTS
    says: str = ""


@dataclass(frozen=True)
class Parameter:
    """A value an account-specific include needs (HubSpot's hub id, say)."""

    name: str
    description: str
    pattern: str  # a regular expression the whole value must match
    example: str

    def check(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


@dataclass(frozen=True)
class Dkim:
    """How the provider signs: its selectors, the form of the records the customer publishes
    (``cname``: CNAMEs to keys the provider hosts and rotates; ``txt``: a key the provider shows
    and the customer publishes; ``unknown``), and whether it can sign with the customer's domain."""

    record: str = "unknown"
    selectors: tuple[str, ...] = ()
    # selector -> CNAME target; a target may hold {parameter} placeholders, and {domain} or
    # {domain_dashed} (the customer's domain, dots turned into hyphens) where it names the customer
    targets: Pairs = ()
    signs_with_customer_domain: bool | None = None
    note: str = ""
    parameters: tuple[Parameter, ...] = ()  # values the targets need (Microsoft 365's tenant name)

    def cname_targets(self, provider: str, domain: str, given: Mapping[str, str]) -> Pairs:
        """(selector, CNAME target) for `domain`, each target filled in; a missing or invalid
        parameter is a :class:`MissingParameterError` naming it."""
        for parameter in self.parameters:
            value = given.get(parameter.name)
            if value is None:
                raise MissingParameterError(provider, parameter, f"DKIM for provider '{provider}' needs "
                                                                 f"'{parameter.name}'")
            if not parameter.check(value):
                raise MissingParameterError(
                    provider, parameter, f"'{value}' is not a valid '{parameter.name}' for provider '{provider}'")
        values = {**given, **dkim_builtins(domain)}
        return tuple((selector, _PLACEHOLDER.sub(lambda m: values[m.group(1)], target).lower())
                     for selector, target in self.targets)


def dkim_builtins(domain: str) -> dict[str, str]:
    """The placeholders every DKIM target may use: the customer's domain, as it is and with its
    dots turned into hyphens (Microsoft 365's `selector1-example-com`)."""
    return {"domain": domain, "domain_dashed": domain.replace(".", "-")}


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
    custom_return_path: bool
    return_path_note: str
    sources: tuple[Source, ...] = ()
    include: str | None = None  # may hold {parameter} placeholders
    mechanism: str = "include"  # or "a": the provider asks for `a:<name>` (Proofpoint Essentials)
    ip4: tuple[str, ...] = ()
    ip6: tuple[str, ...] = ()
    regions: Pairs = ()
    default_region: str | None = None
    covers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    variants: tuple[tuple[str, Pairs], ...] = ()
    parameters: tuple[Parameter, ...] = ()
    keep_literal: bool = False  # the provider checks for its include by name: never flatten it
    macro: bool = False  # its record uses macros: its addresses cannot be listed
    keep_reason: str | None = None
    placement: str = "apex"  # or "mail-from": the include belongs on the return-path subdomain
    mail_from_subdomain: str | None = None  # the label the provider's documentation uses, e.g. "bounce"
    lookups_measured: str | None = None  # YYYY-MM-DD when `spfbuild providers refresh` measured `lookups`
    region_lookups: tuple[tuple[str, int], ...] = ()  # where a region's tree costs other than `lookups`
    dkim: Dkim = field(default_factory=Dkim)
    notes: str = ""
    origin: Path | None = field(default=None, compare=False)  # the file it was read from
    overrides: Path | None = field(default=None, compare=False)  # the bundled file a user file replaced

    @property
    def keep(self) -> bool:
        """Whether flatten must leave the include as written (literal, or a macro record)."""
        return self.keep_literal or self.macro

    @property
    def flags(self) -> tuple[str, ...]:
        """The publishing facts in short: literal, macro, mail-from, parameters."""
        return tuple(name for name, on in (
            ("literal", self.keep_literal), ("macro", self.macro), ("mail-from", self.placement == "mail-from"),
            ("parameters", bool(self.parameters)),
        ) if on)

    def confidence_of(self, fact: str) -> str | None:
        """``primary`` when the provider's own documentation gives `fact`, ``secondary`` when only
        others do, None when no source gives it."""
        found = {s.confidence for s in self.sources if fact in s.facts}
        return "primary" if "primary" in found else "secondary" if found else None

    @property
    def lookups_basis(self) -> str:
        """Where `lookups` comes from: ``measured YYYY-MM-DD``, the confidence of the source that
        gives it, or ``at least`` (only the include itself is counted)."""
        if self.lookups_measured:
            return f"measured {self.lookups_measured}"
        return self.confidence_of("lookups") or "at least"

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

    @functools.cached_property  # asked twice for every provider sender of every domain of a config
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

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

    def include_for(self, region: str | None = None, variant: str | None = None,
                    parameters: Mapping[str, str] | None = None) -> tuple[str, ...]:
        """The target domain(s) that authorise this provider; ``region=None`` means the default
        region, ``parameters`` fill an account-specific include (each is required).

        A provider without regions returns its single include (or nothing when it is only fixed
        ip4/ip6 ranges), and refuses any region.
        """
        chosen = self._region(region)
        if not chosen:
            if variant is not None:  # a provider without regions has whole-provider variants
                return (self.fill(self.regions_map(variant)[""], parameters),)
            return (self.fill(self.include, parameters),) if self.include else ()
        table = self.regions_map(variant)
        if chosen not in table:
            why = f"variant '{variant}' of provider '{self.id}' has no region '{chosen}'"
            raise UnknownRegionError(self.id, chosen, tuple(table), why=why)
        return (self.fill(table[chosen], parameters),)

    def fill(self, template: str, parameters: Mapping[str, str] | None) -> str:
        """`template` with each {parameter} replaced by its checked value."""
        given = parameters or {}
        for parameter in self.parameters:
            value = given.get(parameter.name)
            if value is None:
                raise MissingParameterError(self.id, parameter)
            if not parameter.check(value):
                raise MissingParameterError(
                    self.id, parameter, f"'{value}' is not a valid '{parameter.name}' for provider '{self.id}'")
        return _PLACEHOLDER.sub(lambda m: given[m.group(1)], template)

    def covered_regions(self, region: str | None = None) -> frozenset[str]:
        """The regions that ``region`` supersedes (not counting itself); empty when it covers none."""
        chosen = self._region(region)
        return frozenset(dict(self.covers).get(chosen, ()))

    def targets(self) -> tuple[tuple[str, str], ...]:
        """(region or "", include template) for every include this provider publishes, variants
        included: what `providers refresh` measures and `providers search` matches."""
        found = [("", self.include)] if self.include else []
        found += list(self.regions)
        found += [(f"{variant} {region}".strip(), target)
                  for variant, pairs in self.variants for region, target in pairs]
        return tuple((label, target) for label, target in found if target)
