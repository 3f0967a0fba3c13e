"""senders.yaml -> typed domain specs. Every error names the file, line and column.

The YAML is composed into nodes with the safe loader (never constructed into arbitrary
objects) and walked here, so that each value keeps its position for messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from spfbuild.catalogue import Catalogue, CatalogueError, MissingParameterError
from spfbuild.errors import SPFBuildError
from spfbuild.limits import DEFAULT_TTL, MAX_LOOKUPS, MAX_RECORD_BYTES
from spfbuild.macro import Literal, MacroString
from spfbuild.record import IPNetwork, Qualifier, domain_end_problem, parse
from spfbuild.typography import find_lookalikes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

POLICIES = {"fail": Qualifier.FAIL, "softfail": Qualifier.SOFTFAIL, "neutral": Qualifier.NEUTRAL}
QUALIFIERS = {
    "pass": Qualifier.PASS, "fail": Qualifier.FAIL, "softfail": Qualifier.SOFTFAIL, "neutral": Qualifier.NEUTRAL,
    "+": Qualifier.PASS, "-": Qualifier.FAIL, "~": Qualifier.SOFTFAIL, "?": Qualifier.NEUTRAL,
}
SENDER_KINDS = ("provider", "include", "ip4", "ip6", "a", "mx")
DOMAIN_KEYS = ("domain", "policy", "senders", "existing", "ttl", "flatten", "mail_from")
FLATTEN_KEYS = ("max_lookups", "keep", "max_record_bytes", "reserve_bytes", "chain_name", "self_check")
_CHAIN_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")
_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # as YAML counts lines


class ConfigError(SPFBuildError):
    """A problem in a config file; the message starts with `file:line:column:`."""


@dataclass(frozen=True)
class Location:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Sender:
    kind: str  # one of SENDER_KINDS
    location: Location | None = None  # where a config file declared it; None when built in code
    value: str | None = None  # provider id, include domain, a/mx domain (None: the domain itself)
    region: str | None = None
    variant: str | None = None
    networks: tuple[IPNetwork, ...] = ()
    prefix4: int | None = None
    prefix6: int | None = None
    qualifier: Qualifier = Qualifier.PASS
    comment: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()  # an account-specific include's values (provider senders)

    @property
    def label(self) -> str:
        """How reports name this sender."""
        if self.kind == "provider":
            extra = f" ({self.region})" if self.region else ""
            return f"provider {self.value}{extra}"
        if self.kind in ("ip4", "ip6"):
            if self.location is None:
                return f"{self.kind} {', '.join(str(n) for n in self.networks)}"
            return f"{self.kind} at line {self.location.line}"
        return f"{self.kind} {self.value or '(domain)'}"


@dataclass(frozen=True)
class FlattenSettings:
    max_lookups: int = MAX_LOOKUPS
    keep: tuple[str, ...] = ()
    max_record_bytes: int = MAX_RECORD_BYTES
    reserve_bytes: int | None = None  # None: measure the other TXT records at the name
    chain_name: str | None = None  # None: "_spf{n}", or "_spf-{hash}" when publishing
    self_check: bool = True


@dataclass(frozen=True)
class DomainSpec:
    domain: str
    location: Location | None = None  # where a config file declared it; None when built in code
    senders: tuple[Sender, ...] = ()
    policy: Qualifier | None = None
    existing: str | None = None
    ttl: int = DEFAULT_TTL
    flatten: FlattenSettings = field(default_factory=FlattenSettings)
    mail_from: bool = False  # the domain is a return-path (MAIL FROM) domain, not a From domain


@dataclass(frozen=True)
class Config:
    path: str  # the file it was read from, or a name of the caller's choosing
    domains: tuple[DomainSpec, ...]


def load_config(path: Path, catalogue: Catalogue) -> Config:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line, column = before.count(b"\n") + 1, exc.start - before.rfind(b"\n")
        raise ConfigError(f"{path}:{line}:{column}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_config(text, str(path), catalogue)


def parse_config(text: str, filename: str, catalogue: Catalogue) -> Config:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark else filename
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow in a file (control characters, lone surrogates).
        lines = _LINE_BREAKS.split(text[: exc.position])
        where = f"{filename}:{len(lines)}:{len(lines[-1]) + 1}"
        raise ConfigError(f"{where}: invalid YAML: character {chr(exc.character)!r} is not allowed") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{filename}: invalid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{_too_deep(text, filename)}: invalid YAML: nested too deeply") from None
    if root is None:
        raise ConfigError(f"{filename}: the file is empty")
    walker = _Walker(filename, catalogue)
    walker.refuse_tags(root)
    return walker.config(root)


class _Walker:
    def __init__(self, filename: str, catalogue: Catalogue) -> None:
        self.filename = filename
        self.catalogue = catalogue

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.filename, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: yaml.Node, message: str) -> ConfigError:
        return ConfigError(f"{self.loc(node)}: {message}")

    # --- generic node readers -------------------------------------------------------------

    def refuse_tags(self, root: yaml.Node) -> None:
        """Only the tags the safe loader knows (`!!str`, `!!int`, ...): never `!!python/...` nor
        custom ones, wherever they are (nothing is ever constructed from them)."""
        stack, seen = [root], set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue  # aliases may make the graph cyclic
            seen.add(id(node))
            if node.tag not in _SAFE_TAGS:
                raise self.error(node, f"unsupported YAML tag {node.tag!r}")
            if isinstance(node, yaml.SequenceNode):
                stack += node.value
            elif isinstance(node, yaml.MappingNode):
                stack += [n for pair in node.value for n in pair]

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of keys to values")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, f"keys in {what} must be plain text")
            key = str(key_node.value)
            if key in out:
                raise self.error(key_node, f"duplicate key '{key}' in {what}")
            out[key] = (key_node, value_node)
        return out

    def refuse_unknown(self, items: dict[str, tuple[yaml.Node, yaml.Node]], allowed: tuple[str, ...],
                       what: str) -> None:
        for key, (key_node, _) in items.items():
            if key not in allowed:
                import difflib  # only for a mistake

                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f" (allowed: {', '.join(allowed)})"
                raise self.error(key_node, f"unknown key '{key}' in {what}{hint}")

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, "expected a single value, not a list or mapping")
        try:
            return _construct(node)
        except yaml.YAMLError:
            raise self.error(node, f"unsupported YAML tag {node.tag!r}") from None
        except Exception:
            # An explicit tag whose value does not fit it, e.g. `!!int ten`, `!!int ""` or `!!timestamp soon`:
            # PyYAML's constructors fail with whatever their parsing of the value raises.
            raise self.error(node, f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}") from None

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or not value.strip():
            raise self.error(node, f"{what} must be text, got {_describe(value)}")
        if find_lookalikes(value):
            raise self.error(node, f"{what} {value!r} contains a typographic look-alike or invisible character")
        return value.strip()

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"{what} must be a whole number, got {_describe(value)}")
        if not low <= value <= high:
            raise self.error(node, f"{what} must be between {low} and {high}, got {value}")
        return value

    def items(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.ScalarNode):
            return [node]
        raise self.error(node, f"{what} must be a list")

    # --- the document -----------------------------------------------------------------------

    def config(self, root: yaml.Node) -> Config:
        top = self.mapping(root, "the config")
        if "domains" in top:
            self.refuse_unknown(top, ("defaults", "domains"), "a multi-domain config")
            defaults = self.mapping(top["defaults"][1], "defaults") if "defaults" in top else {}
            self.refuse_unknown(defaults, tuple(k for k in DOMAIN_KEYS if k != "domain"), "defaults")
            domains_node = top["domains"][1]
            domains = self.mapping(domains_node, "domains")
            if not domains:
                raise self.error(domains_node, "domains is empty")
            specs = []
            seen: set[str] = set()
            for name, (key_node, value_node) in domains.items():
                own = {} if _is_null(value_node) else self.mapping(value_node, f"domain '{name}'")
                self.refuse_unknown(own, tuple(k for k in DOMAIN_KEYS if k != "domain"), f"domain '{name}'")
                merged = {**defaults, **own}
                spec = self.domain_spec(self.domain_name(key_node), merged, key_node)
                if spec.domain in seen:
                    raise self.error(key_node, f"domain '{spec.domain}' is listed twice")
                seen.add(spec.domain)
                specs.append(spec)
            return Config(self.filename, tuple(specs))
        if "domain" not in top:
            raise self.error(root, "the config needs 'domain:' (one domain) or 'domains:' (several)")
        self.refuse_unknown(top, DOMAIN_KEYS, "the config")
        key_node, value_node = top["domain"]
        spec = self.domain_spec(self.domain_name(value_node), top, key_node)
        return Config(self.filename, (spec,))

    def domain_name(self, node: yaml.Node) -> str:
        name = self.text(node, "the domain").lower().rstrip(".")
        labels = name.split(".")
        if len(labels) < 2:
            raise self.error(node, f"'{name}' is not a valid domain name: it needs at least two labels")
        if not all(labels):
            raise self.error(node, f"'{name}' is not a valid domain name: empty label")
        problem = _dns_name_problem(name)
        if problem is not None:
            raise self.error(node, f"'{name}' is not a valid domain name: {problem}")
        if not all(ch.isalnum() or ch in "-_." for ch in name) or not name.isascii():
            raise self.error(node, f"'{name}' is not a valid domain name (use the IDNA/punycode form)")
        problem = domain_end_problem(MacroString((Literal(name),)), name)
        if problem is not None:  # e.g. an IP address: receivers never look up SPF there (RFC 7208 4.3)
            raise self.error(node, f"'{name}' is not a valid domain name: {problem}")
        return name

    def domain_spec(self, domain: str, items: dict[str, tuple[yaml.Node, yaml.Node]],
                    where: yaml.Node) -> DomainSpec:
        senders: tuple[Sender, ...] = ()
        if "senders" in items and not _is_null(items["senders"][1]):
            senders_node = items["senders"][1]
            if not isinstance(senders_node, yaml.SequenceNode):
                raise self.error(senders_node, "senders must be a list")
            senders = tuple(self.sender(node) for node in senders_node.value)
        existing = None
        if "existing" in items:
            existing = self.existing(items["existing"][1])
        if not senders and existing is None:
            raise self.error(where, f"domain '{domain}' has no senders")
        policy = self.policy(items["policy"][1]) if "policy" in items else None
        if policy is None and existing is None:
            raise self.error(where, f"domain '{domain}' needs 'policy:' (fail, softfail or neutral)")
        ttl = self.integer(items["ttl"][1], "ttl", 0, 2**31 - 1) if "ttl" in items else DEFAULT_TTL
        flatten = self.flatten(items["flatten"][1]) if "flatten" in items else FlattenSettings()
        mail_from = False
        if "mail_from" in items:
            mail_from = self.scalar(items["mail_from"][1])
            if not isinstance(mail_from, bool):
                raise self.error(items["mail_from"][1], "mail_from must be true or false")
        return DomainSpec(domain, self.loc(where), senders, policy, existing, ttl, flatten, mail_from)

    def policy(self, node: yaml.Node) -> Qualifier:
        value = self.scalar(node)
        if value in ("pass", "+all", "+") or value is True:
            raise self.error(node, "policy 'pass' (+all) would let anyone send as the domain; use fail or softfail")
        if not isinstance(value, str) or value.lower() not in POLICIES:
            raise self.error(node, f"policy must be fail, softfail or neutral, got {_describe(value)}")
        return POLICIES[value.lower()]

    def existing(self, node: yaml.Node) -> str:
        value = self.scalar(node)
        if not isinstance(value, str):
            raise self.error(node, f"existing must be the record text, got {_describe(value)}")
        parsed = parse(value.strip())
        errors = [d for d in parsed.diagnostics if d.is_error]
        if errors:
            raise self.error(node, f"existing record: {errors[0].message} (column {errors[0].column})")
        return value.strip()

    def flatten(self, node: yaml.Node) -> FlattenSettings:
        if _is_null(node):
            return FlattenSettings()
        items = self.mapping(node, "flatten")
        self.refuse_unknown(items, FLATTEN_KEYS, "flatten")
        values: dict[str, Any] = {}
        if "max_lookups" in items:
            values["max_lookups"] = self.integer(items["max_lookups"][1], "flatten.max_lookups", 0, 10)
        if "max_record_bytes" in items:
            values["max_record_bytes"] = self.integer(items["max_record_bytes"][1], "flatten.max_record_bytes",
                                                      64, 4000)
        if "reserve_bytes" in items:
            values["reserve_bytes"] = self.integer(items["reserve_bytes"][1], "flatten.reserve_bytes", 0, 4000)
        if "keep" in items:
            values["keep"] = tuple(self.keep_entry(n) for n in self.items(items["keep"][1], "flatten.keep"))
        if "chain_name" in items:
            name_node = items["chain_name"][1]
            template = self.text(name_node, "flatten.chain_name")
            if "{n}" not in template and "{hash}" not in template:
                raise self.error(name_node, "flatten.chain_name must contain {n} or {hash}, e.g. '_spf{n}'")
            try:
                sample = template.format(n=1, hash="0" * 10)  # a hash is 10 hex digits
            except (KeyError, IndexError, ValueError, AttributeError):
                raise self.error(name_node, "flatten.chain_name may use only {n} and {hash}") from None
            if not all(_CHAIN_LABEL.fullmatch(label) for label in sample.split(".")):
                raise self.error(name_node, f"flatten.chain_name {template!r} does not make a DNS name: use labels "
                                            "of letters, digits, '-' and '_' (at most 63), e.g. '_spf{n}'")
            values["chain_name"] = template
        if "self_check" in items:
            check = self.scalar(items["self_check"][1])
            if not isinstance(check, bool):
                raise self.error(items["self_check"][1], "flatten.self_check must be true or false")
            values["self_check"] = check
        return FlattenSettings(**values)

    def keep_entry(self, node: yaml.Node) -> str:
        value = self.text(node, "a flatten.keep entry").lower()
        if value in self.catalogue:
            return self.catalogue.resolve(value)
        if "." in value:
            return value.rstrip(".")
        try:
            self.catalogue.get(value)
        except CatalogueError as exc:
            raise self.error(node, f"flatten.keep: {exc}") from None
        return value

    def sender(self, node: yaml.Node) -> Sender:
        items = self.mapping(node, "a sender")
        kinds = [k for k in SENDER_KINDS if k in items]
        if len(kinds) != 1:
            found = " and ".join(kinds) if kinds else "none"
            raise self.error(node, f"a sender needs exactly one of {', '.join(SENDER_KINDS)} (found {found})")
        kind = kinds[0]
        allowed = (kind, "qualifier", "comment") + (("region", "variant") if kind == "provider" else ())
        if kind == "provider":
            allowed += self.parameter_keys(items[kind][1])
        self.refuse_unknown(items, allowed, f"a {kind} sender")
        loc = self.loc(node)
        qualifier = self.qualifier(items["qualifier"][1]) if "qualifier" in items else Qualifier.PASS
        comment = str(self.scalar(items["comment"][1])) if "comment" in items else None
        value_node = items[kind][1]
        common: dict[str, Any] = {"location": loc, "qualifier": qualifier, "comment": comment}
        if kind == "provider":
            return self.provider_sender(items, value_node, common)
        if kind == "include":
            return Sender("include", value=self.include_domain(value_node), **common)
        if kind in ("ip4", "ip6"):
            networks = tuple(self.network(n, kind) for n in self.items(value_node, kind))
            if not networks:
                raise self.error(value_node, f"{kind} is an empty list")
            return Sender(kind, networks=networks, **common)
        return self.host_sender(kind, value_node, common)

    def provider_sender(self, items: dict[str, tuple[yaml.Node, yaml.Node]], value_node: yaml.Node,
                        common: dict[str, Any]) -> Sender:
        name = self.text(value_node, "provider")
        try:
            provider = self.catalogue.get(name)
        except CatalogueError as exc:
            raise self.error(value_node, str(exc)) from None
        region = variant = None
        if "region" in items:
            region = self.text(items["region"][1], "region").lower()
        if "variant" in items:
            variant = self.text(items["variant"][1], "variant").lower()
        parameters = {name: self.parameter_value(items[name][1], name)
                      for name in provider.parameter_names if name in items}
        try:
            provider.include_for(region, variant, parameters)
        except MissingParameterError as exc:
            node = items[exc.parameter][1] if exc.parameter in items else value_node
            raise self.error(node, str(exc)) from None
        except CatalogueError as exc:
            node = items["region"][1] if "region" in items else value_node
            if "variant" in items and "variant" in str(exc):
                node = items["variant"][1]
            raise self.error(node, str(exc)) from None
        return Sender("provider", value=provider.id, region=region, variant=variant,
                      parameters=tuple(parameters.items()), **common)

    def parameter_keys(self, node: yaml.Node) -> tuple[str, ...]:
        """The parameters the named provider takes, allowed beside `provider:` (unknown
        providers are reported by `provider_sender`)."""
        value = self.scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, str) and value in self.catalogue:
            return self.catalogue.get(value).parameter_names
        return ()

    def parameter_value(self, node: yaml.Node, name: str) -> str:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise self.error(node, f"{name} must be text or a number, got {_describe(value)}")
        return str(value).strip()

    def include_domain(self, node: yaml.Node) -> str:
        value = self.text(node, "include")
        parsed = parse(f"v=spf1 include:{value}")
        errors = [d for d in parsed.diagnostics if d.is_error]
        if errors:
            raise self.error(node, f"include: {errors[0].message}")
        problem = _dns_name_problem(value)
        if problem is not None:
            raise self.error(node, f"include: {problem}")
        return value

    def host_sender(self, kind: str, node: yaml.Node, common: dict[str, Any]) -> Sender:
        value = self.scalar(node)
        if value is True:
            return Sender(kind, **common)
        if not isinstance(value, str):
            raise self.error(node, f"{kind} must be a domain, a domain/cidr, or true, got {_describe(value)}")
        term = f"{kind}:{value.strip()}" if not value.strip().startswith("/") else f"{kind}{value.strip()}"
        parsed = parse(f"v=spf1 {term}")
        errors = [d for d in parsed.diagnostics if d.is_error]
        if errors or not parsed.record.mechanisms:
            message = errors[0].message if errors else "invalid value"
            raise self.error(node, f"{kind}: {message}")
        mech = parsed.record.mechanisms[0]
        problem = _dns_name_problem(mech.domain or "")
        if problem is not None:
            raise self.error(node, f"{kind}: {problem}")
        return Sender(kind, value=mech.domain, prefix4=mech.prefix4, prefix6=mech.prefix6, **common)

    def network(self, node: yaml.Node, kind: str) -> IPNetwork:
        value = self.scalar(node)
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
        if text is None:
            raise self.error(node, f"{kind} entries must be addresses or networks, got {_describe(value)}")
        parsed = parse(f"v=spf1 {kind}:{text}")
        errors = [d for d in parsed.diagnostics if d.is_error]
        if errors:
            raise self.error(node, f"{kind}: {errors[0].message}")
        mech = parsed.record.mechanisms[0]
        assert mech.network is not None
        if mech.address != mech.network.network_address:
            raise self.error(node, f"{kind}: '{text}' has host bits set; did you mean '{mech.network}'?")
        return mech.network

    def qualifier(self, node: yaml.Node) -> Qualifier:
        value = self.scalar(node)
        if not isinstance(value, str) or value.lower() not in QUALIFIERS:
            raise self.error(node, f"qualifier must be pass, fail, softfail or neutral, got {_describe(value)}")
        return QUALIFIERS[value.lower()]


_CONSTRUCTOR = yaml.SafeLoader("")
_SAFE_TAGS = frozenset({*(t for t in yaml.SafeLoader.yaml_constructors if t is not None), "tag:yaml.org,2002:merge"})
_MAX_DEPTH = 100


def _too_deep(text: str, filename: str) -> str:
    """Where nesting first goes deeper than any config needs (the YAML parser itself is not
    recursive, so this walk cannot fail the way composing did)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            mark = event.start_mark
            if depth > _MAX_DEPTH and mark is not None:
                return f"{filename}:{mark.line + 1}:{mark.column + 1}"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return filename


def _construct(node: yaml.ScalarNode) -> Any:
    return _CONSTRUCTOR.construct_object(node, deep=True)


def _dns_name_problem(name: str) -> str | None:
    """Why DNS cannot carry a macro-free name a sender gives (RFC 1035 section 2.3.4): RFC 7208
    leaves receivers' result for such names undefined, so a record must never hold one."""
    if "%" in name:
        return None  # expanded per message; receivers truncate long expansions (RFC 7208 7.3)
    body = name.removesuffix(".")
    for label in body.split("."):
        if len(label.encode()) > 63:
            return f"label '{label}' is {len(label.encode())} octets long; DNS allows 63"
    if len(body) > 253:
        return f"the name is {len(body)} characters long; DNS allows 253"
    return None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    return f"{type(value).__name__} {value!r}"
