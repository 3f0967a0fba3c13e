"""The schema of a provider file (``providers/<id>.yaml``): one file in, one checked
:class:`~spfbuild.provider.Provider` out, or a :class:`~spfbuild.provider.SchemaError` naming
the file and the key at the first problem. Users' own files go through the same checks.

Every fact a file states must be given by one of its ``sources``; see ``providers/README.md``.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from spfbuild.provider import CATEGORIES, Dkim, Pairs, Parameter, Provider, SchemaError, Source, dkim_builtins

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REQUIRED = ("id", "name", "aliases", "category", "description", "documentation", "sources", "lookups",
            "custom_return_path", "return_path_note")
OPTIONAL = ("include", "mechanism", "ip4", "ip6", "regions", "default_region", "covers", "variants", "parameters",
            "keep", "keep_reason", "macro", "placement", "mail_from_subdomain", "lookups_measured",
            "region_lookups", "dkim", "notes")
# What a source can vouch for. `spf` is the include (or ranges) itself and is always needed.
FACTS = ("spf", "keep", "macro", "placement", "parameters", "dkim", "return-path", "lookups")
CONFIDENCE = ("primary", "secondary")
DKIM_RECORDS = ("cname", "txt", "unknown")
MECHANISMS = ("include", "a")
_SOURCE_KEYS = ("url", "read", "confidence", "facts", "says")
_PARAMETER_KEYS = ("description", "pattern", "example")
_DKIM_KEYS = ("record", "selectors", "targets", "signs_with_customer_domain", "note", "parameters")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# Underscores are allowed because SPF include targets are often names like _spf.example.com.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# libyaml's loader when PyYAML has it: loading the catalogue is most of `spfbuild render`'s work.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_provider_file(path: Path) -> Provider:
    return checked_provider(path, read_provider_data(path))


def read_provider_data(path: Path) -> dict[Any, Any]:
    """The file's YAML, a mapping at the top, before any check of its keys."""
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
            raise SchemaError(path, None, f"invalid YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(data, dict):
        raise SchemaError(path, None, "top level must be a mapping of keys to values")
    return data


def checked_provider(path: Path, data: dict[Any, Any]) -> Provider:
    """The Provider a file's parsed mapping states, or SchemaError at the first problem."""
    return _Checker(path, data).provider()


class _Checker:
    """Turns one parsed file into a Provider, raising SchemaError at the first problem."""

    def __init__(self, path: Path, data: dict[Any, Any]) -> None:
        self.path, self.data = path, data

    def fail(self, key: str | None, problem: str) -> SchemaError:
        return SchemaError(self.path, key, problem)

    # --- value readers -----------------------------------------------------------------------

    def text(self, key: str, value: object = None, *, optional: bool = False) -> str | None:
        value = self.data.get(key) if value is None else value
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return " ".join(value.split())

    def slug(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not _SLUG.fullmatch(value):
            raise self.fail(key, f"{value!r} must be lower-case letters and digits joined by hyphens")
        return value

    def domain(self, key: str, value: object, parameters: tuple[Parameter, ...] = ()) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"{value!r} must be a domain name")
        name = value.strip().lower().rstrip(".")
        known = {p.name: p.example for p in parameters}
        for placeholder in _PLACEHOLDER.findall(name):
            if placeholder not in known:
                raise self.fail(key, f"{value!r} uses {{{placeholder}}}, which is not among the parameters")
        sample = _PLACEHOLDER.sub(lambda m: known[m.group(1)], name)  # checked as a user would fill it
        labels = sample.split(".")
        tld_ok = labels[-1].isalpha() or labels[-1].startswith("xn--")  # IDN TLDs are punycode
        if len(sample) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(lb) for lb in labels) or not tld_ok:
            raise self.fail(key, f"{value!r} is not a valid domain name")
        return name

    def items(self, key: str, value: object = None) -> list[Any]:
        value = self.data.get(key) if value is None else value
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        return value

    def mapping(self, key: str, value: object, allowed: tuple[str, ...] | None = None) -> dict[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        if allowed is not None:
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                raise self.fail(f"{key}.{unknown[0]}", f"unknown key (allowed: {', '.join(allowed)})")
        return value

    def flag(self, key: str, value: object, *, default: bool | None = None) -> bool:
        if value is None and default is not None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def count(self, key: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, "must be a whole number, 0 or more")
        return value

    def date(self, key: str, value: object) -> str:
        text = value.isoformat() if isinstance(value, datetime.date) else value  # YAML reads dates as dates
        if not isinstance(text, str) or not _DATE.fullmatch(text):
            raise self.fail(key, f"{value!r} must be a date, YYYY-MM-DD")
        return text

    def url(self, key: str, value: object) -> str:
        text = self.text(key, value) or ""
        parts = urlsplit(text)
        if parts.scheme != "https" or not parts.netloc:
            raise self.fail(key, f"{text!r} must be an https:// URL")
        return text

    def choice(self, key: str, value: object, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, f"{value!r} is not one of: {', '.join(choices)}")
        return str(value)

    def region_table(self, key: str, value: object, parameters: tuple[Parameter, ...]) -> Pairs:
        return tuple((self.slug(key, region), self.domain(f"{key}.{region}", target, parameters))
                     for region, target in self.mapping(key, value).items())

    def networks(self, key: str, version: int) -> tuple[str, ...]:
        result = []
        for item in self.items(key):
            try:
                network = ipaddress.ip_network(str(item), strict=False)
            except ValueError:
                network = None
            if network is None or network.version != version or not isinstance(item, str):
                raise self.fail(key, f"{item!r} is not an IPv{version} address or range")
            result.append(item)
        return tuple(result)

    # --- parts ---------------------------------------------------------------------------------

    def sources(self) -> tuple[Source, ...]:
        listed = self.items("sources")
        if not listed:
            raise self.fail("sources", "must list at least one source of the file's facts")
        found = []
        for index, entry in enumerate(listed):
            key = f"sources[{index}]"
            item = self.mapping(key, entry, _SOURCE_KEYS)
            for required in ("url", "read", "confidence", "facts"):
                if required not in item:
                    raise self.fail(f"{key}.{required}", "missing required key")
            listed_facts = self.items(f"{key}.facts", item["facts"])
            facts = tuple(self.choice(f"{key}.facts", fact, FACTS) for fact in listed_facts)
            if not facts:
                raise self.fail(f"{key}.facts", "must name at least one fact the source gives")
            says = self.text(f"{key}.says", item.get("says"), optional=True) or ""
            found.append(Source(self.url(f"{key}.url", item["url"]), self.date(f"{key}.read", item["read"]),
                                self.choice(f"{key}.confidence", item["confidence"], CONFIDENCE), facts, says))
        return tuple(found)

    def parameters(self, where: str = "parameters", table: object = None) -> tuple[Parameter, ...]:
        found = []
        table = self.data.get("parameters") if where == "parameters" else table
        for name, entry in self.mapping(where, table).items():
            key = f"{where}.{name}"
            if not isinstance(name, str) or not _PARAMETER_NAME.fullmatch(name):
                raise self.fail(key, "a parameter name is lower-case letters, digits and '_'")
            item = self.mapping(key, entry, _PARAMETER_KEYS)
            pattern = self.text(f"{key}.pattern", item.get("pattern")) or ""
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(f"{key}.pattern", f"not a regular expression: {exc}") from None
            example = str(item.get("example", "")).strip()
            description = self.text(f"{key}.description", item.get("description")) or ""
            parameter = Parameter(name, description, pattern, example)
            if not example or not parameter.check(example):
                raise self.fail(f"{key}.example", f"{example!r} must match the pattern {pattern!r}")
            found.append(parameter)
        return tuple(found)

    def dkim(self) -> Dkim:
        item = self.mapping("dkim", self.data.get("dkim"), _DKIM_KEYS)
        record = self.choice("dkim.record", item.get("record", "unknown"), DKIM_RECORDS)
        listed = self.items("dkim.selectors", item.get("selectors"))
        selectors = tuple(self.text("dkim.selectors", s) or "" for s in listed)
        parameters = self.parameters("dkim.parameters", item.get("parameters"))
        builtins = tuple(Parameter(name, name, ".*", example) for name, example in dkim_builtins("example.com").items())
        targets = tuple((str(s), self.domain(f"dkim.targets.{s}", t, parameters + builtins))
                        for s, t in self.mapping("dkim.targets", item.get("targets")).items())
        if not {s for s, _ in targets} <= set(selectors):
            raise self.fail("dkim.targets", "must map some of the selectors to CNAME targets")
        signs = item.get("signs_with_customer_domain")
        if signs is not None:
            self.flag("dkim.signs_with_customer_domain", signs)
        note = self.text("dkim.note", item.get("note"), optional=True) or ""
        if targets and record != "cname":
            raise self.fail("dkim.targets", "are CNAME targets: give them only with record: cname")
        return Dkim(record, selectors, targets, signs, note, parameters)

    def keep(self) -> tuple[bool, bool, str | None]:
        value = self.data.get("keep", False)
        if value not in (False, "literal"):
            raise self.fail("keep", f"{value!r} must be 'literal' (the provider checks for its include by name) "
                                    "or false")
        literal = value == "literal"
        macro = self.flag("macro", self.data.get("macro"), default=False)
        reason = self.text("keep_reason", optional=True)
        if (literal or macro) and reason is None:
            raise self.fail("keep_reason", "is required with keep: literal or macro: true")
        if not (literal or macro) and reason is not None:
            raise self.fail("keep_reason", "must be omitted unless keep is literal or macro is true")
        return literal, macro, reason

    # --- the whole file ------------------------------------------------------------------------

    def provider(self) -> Provider:
        data = self.data
        unknown = sorted(str(k) for k in data if k not in REQUIRED and k not in OPTIONAL)
        if unknown:
            raise self.fail(unknown[0], "unknown key (allowed: " + ", ".join(REQUIRED + OPTIONAL) + ")")
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise self.fail(missing[0], "missing required key")

        ident = self.slug("id", data["id"])
        if ident != self.path.stem:
            raise self.fail("id", f"'{ident}' must equal the file name stem '{self.path.stem}'")
        aliases = tuple(self.slug("aliases", a) for a in self.items("aliases"))
        if ident in aliases or len(set(aliases)) != len(aliases):
            raise self.fail("aliases", "must not repeat the id or an alias")
        category = self.text("category")
        if category not in CATEGORIES:
            raise self.fail("category", f"{category!r} is not one of: {', '.join(sorted(CATEGORIES))}")
        documentation = self.url("documentation", data["documentation"])
        sources = self.sources()
        lookups = self.count("lookups", data["lookups"])
        measured = None if data.get("lookups_measured") is None else self.date("lookups_measured",
                                                                                 data["lookups_measured"])

        parameters = self.parameters()
        include = None if data.get("include") is None else self.domain("include", data["include"], parameters)
        mechanism = self.choice("mechanism", data.get("mechanism", "include"), MECHANISMS)
        ip4, ip6 = self.networks("ip4", 4), self.networks("ip6", 6)
        regions = self.region_table("regions", data.get("regions"), parameters)
        if include and regions:
            raise self.fail("include", "give either include or regions, not both")
        if not (include or regions or ip4 or ip6):
            raise self.fail("include", "one of include, regions, ip4 or ip6 is required")
        names = {region for region, _ in regions}
        default, covers, variants = self.region_parts(names, parameters)
        region_lookups = []
        for region, cost in self.mapping("region_lookups", data.get("region_lookups")).items():
            if region not in names:
                raise self.fail(f"region_lookups.{region}", "must map one of the regions to a whole number")
            region_lookups.append((region, self.count(f"region_lookups.{region}", cost)))

        literal, macro, keep_reason = self.keep()
        placement = self.choice("placement", data.get("placement", "apex"), ("apex", "mail-from"))
        subdomain = self.text("mail_from_subdomain", optional=True)
        if (placement == "mail-from") != (subdomain is not None):
            raise self.fail("mail_from_subdomain", "is required with placement: mail-from, and only then")
        if subdomain is not None and not _LABEL.fullmatch(subdomain):
            raise self.fail("mail_from_subdomain", f"{subdomain!r} must be one DNS label")
        custom_return_path = self.flag("custom_return_path", data["custom_return_path"])
        note = self.text("return_path_note") or ""
        lowered = note.lower()
        if not custom_return_path and not all(w in lowered for w in ("dmarc", "spf", "align")):
            raise self.fail("return_path_note", "must say that mail cannot pass DMARC through SPF alignment")
        dkim = self.dkim()
        notes = data.get("notes")
        if notes is not None and not isinstance(notes, str):
            raise self.fail("notes", "must be text")

        self.require_sources(sources, {
            "spf": True, "keep": literal, "macro": macro, "placement": placement == "mail-from",
            "parameters": bool(parameters), "dkim": dkim.record != "unknown",
            "lookups": measured is None and (lookups > 1 or bool(region_lookups)),
        })
        return Provider(
            id=ident, name=self.text("name") or "", aliases=aliases, category=category,
            description=self.text("description") or "", documentation=documentation, lookups=lookups,
            custom_return_path=custom_return_path, return_path_note=note, sources=sources, include=include,
            mechanism=mechanism, ip4=ip4, ip6=ip6, regions=regions, default_region=default, covers=covers,
            variants=variants, parameters=parameters, keep_literal=literal, macro=macro, keep_reason=keep_reason,
            placement=placement, mail_from_subdomain=subdomain, lookups_measured=measured,
            region_lookups=tuple(region_lookups), dkim=dkim, notes=" ".join((notes or "").split()),
            origin=self.path,
        )

    def region_parts(self, names: set[str], parameters: tuple[Parameter, ...]) -> tuple[
            str | None, tuple[tuple[str, tuple[str, ...]], ...], tuple[tuple[str, Pairs], ...]]:
        data = self.data
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
        variants: list[tuple[str, Pairs]] = []
        for variant, table in self.mapping("variants", data.get("variants")).items():
            key = f"variants.{self.slug('variants', variant)}"
            if not names:  # a provider without regions: a variant is one other include
                variants.append((variant, (("", self.domain(key, table, parameters)),)))
                continue
            pairs = self.region_table(key, table, parameters)
            if not pairs or not {region for region, _ in pairs} <= names:
                raise self.fail(key, "must map some of the provider's regions to include domains")
            variants.append((variant, pairs))
        return default, tuple(covers), tuple(variants)

    def require_sources(self, sources: tuple[Source, ...], stated: dict[str, bool]) -> None:
        """Each fact the file states needs a source that gives it."""
        given = {fact for source in sources for fact in source.facts}
        for fact, present in stated.items():
            if present and fact not in given:
                raise self.fail("sources", f"no source gives the '{fact}' fact this file states")
