"""senders.yaml -> :class:`~spfbuild.config.model.Config`: one domain or `defaults:` and
`domains:`, each domain's policy, existing record, TTL and flatten settings. Sender entries are
read by :mod:`spfbuild.config.senders`; every error names the file, line and column."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import yaml

from spfbuild.catalogue import Catalogue
from spfbuild.compiled.names import base_problem
from spfbuild.config.model import (
    DOMAIN_KEYS,
    FLATTEN_KEYS,
    FLATTEN_MODES,
    POLICIES,
    Config,
    ConfigError,
    DomainSpec,
    FlattenSettings,
    Sender,
)
from spfbuild.config.nodes import Items, compose, describe, is_null
from spfbuild.config.publishing import PublishReader
from spfbuild.config.senders import SenderReader
from spfbuild.dnsname import name_problem
from spfbuild.limits import DEFAULT_TTL, MAX_LOOKUPS
from spfbuild.linting import existing_problem, record_text
from spfbuild.macro import Literal, MacroString
from spfbuild.provider import CatalogueError
from spfbuild.record import IPNetwork, Qualifier
from spfbuild.recordparse import domain_end_problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_CHAIN_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")


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
    root = compose(text, filename)
    walker = _Walker(filename, catalogue)
    walker.refuse_tags(root)
    return walker.config(root)


class _Walker(SenderReader, PublishReader):
    """The document's structure: domains and their settings."""

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
                own = {} if is_null(value_node) else self.mapping(value_node, f"domain '{name}'")
                self.refuse_unknown(own, tuple(k for k in DOMAIN_KEYS if k != "domain"), f"domain '{name}'")
                merged = {**defaults, **own}
                spec = self.domain_spec(self.domain_name(key_node), merged, key_node)
                if "policy" in defaults and "policy" not in own:
                    spec = replace(spec, policy_inherited=True)
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
        name = self.ascii_name(node, self.text(node, "the domain")).lower().rstrip(".")
        labels = name.split(".")
        if len(labels) < 2:
            raise self.error(node, f"'{name}' is not a valid domain name: it needs at least two labels")
        if not all(labels):
            raise self.error(node, f"'{name}' is not a valid domain name: empty label")
        problem = name_problem(name)
        if problem is not None:
            raise self.error(node, f"'{name}' is not a valid domain name: {problem}")
        if not all(ch.isalnum() or ch in "-_." for ch in name) or not name.isascii():
            raise self.error(node, f"'{name}' is not a valid domain name (use the IDNA/punycode form)")
        problem = domain_end_problem(MacroString((Literal(name),)), name)
        if problem is not None:  # e.g. an IP address: receivers never look up SPF there (RFC 7208 4.3)
            raise self.error(node, f"'{name}' is not a valid domain name: {problem}")
        return name

    def domain_spec(self, domain: str, items: Items, where: yaml.Node) -> DomainSpec:
        senders: tuple[Sender, ...] = ()
        if "senders" in items and not is_null(items["senders"][1]):
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
        if flatten.mode != "ranges":
            self.macro_base(domain, items["flatten"][1])
        mail_from = self.flag(items["mail_from"][1], "mail_from") if "mail_from" in items else False
        examples: tuple[IPNetwork, ...] = ()
        if "example_ranges" in items:
            examples = tuple(self.example_range(n) for n in self.items(items["example_ranges"][1], "example_ranges"))
        dmarc = self.dmarc(items["dmarc"][1]) if "dmarc" in items else None
        dmarc_location = self.loc(items["dmarc"][1]) if dmarc is not None else None
        publish = None
        if "publish" in items and not is_null(items["publish"][1]):
            publish = self.publish(items["publish"][1], domain)
        return DomainSpec(domain, self.loc(where), senders, policy, existing, ttl, flatten, mail_from, dmarc,
                          dmarc_location, example_ranges=examples, publish=publish)

    def example_range(self, node: yaml.Node) -> IPNetwork:
        """An ip4 or ip6 network a sample or a test uses as an example (documentation ranges)."""
        value = self.scalar(node)
        kind = "ip6" if isinstance(value, str) and ":" in value else "ip4"
        return self.network(node, kind)

    def policy(self, node: yaml.Node) -> Qualifier:
        value = self.scalar(node)
        if value in ("pass", "+all", "+") or value is True:
            raise self.error(node, "policy 'pass' (+all) would let anyone send as the domain; use fail or softfail")
        if not isinstance(value, str) or value.lower() not in POLICIES:
            got = repr(value) if isinstance(value, str) else describe(value)
            raise self.error(node, f"policy must be one of {', '.join(POLICIES)} (got {got})")
        return POLICIES[value.lower()]

    def existing(self, node: yaml.Node) -> str:
        value = self.scalar(node)
        if not isinstance(value, str):
            raise self.error(node, f"existing must be the record text, got {describe(value)}")
        problem = existing_problem(value)
        if problem is not None:
            raise self.error(node, problem)
        return record_text(value)

    def flatten(self, node: yaml.Node) -> FlattenSettings:
        if is_null(node):
            return FlattenSettings()
        items = self.mapping(node, "flatten")
        self.refuse_unknown(items, FLATTEN_KEYS, "flatten")
        values: dict[str, Any] = {}
        if "max_lookups" in items:
            values["max_lookups"] = self.integer(items["max_lookups"][1], "flatten.max_lookups", 0, MAX_LOOKUPS)
        if "max_record_bytes" in items:
            values["max_record_bytes"] = self.integer(items["max_record_bytes"][1], "flatten.max_record_bytes",
                                                      64, 4000)
        if "reserve_bytes" in items:
            values["reserve_bytes"] = self.integer(items["reserve_bytes"][1], "flatten.reserve_bytes", 0, 4000)
        if "keep" in items:
            values["keep"] = tuple(self.keep_entry(n) for n in self.items(items["keep"][1], "flatten.keep"))
        if "chain_name" in items:
            values["chain_name"] = self.chain_name(items["chain_name"][1])
        if "self_check" in items:
            values["self_check"] = self.flag(items["self_check"][1], "flatten.self_check")
        if "mode" in items:
            values["mode"] = self.flatten_mode(items["mode"][1])
        if "macro_zone" in items and not is_null(items["macro_zone"][1]):
            values["macro_zone"] = self.domain_name(items["macro_zone"][1])
        if "macro_max_records" in items:
            values["macro_max_records"] = self.integer(items["macro_max_records"][1], "flatten.macro_max_records",
                                                       1, 10_000_000)
        return FlattenSettings(**values)

    def flatten_mode(self, node: yaml.Node) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or value.lower() not in FLATTEN_MODES:
            raise self.error(node, f"flatten.mode must be ranges, macro or auto, got {describe(value)}")
        return value.lower()

    def macro_base(self, domain: str, flatten: yaml.Node) -> None:
        """A compiled zone's names must fit 253 octets: checked now, whatever mode a run picks."""
        items = self.mapping(flatten, "flatten")
        zone = items.get("macro_zone")
        base = domain if zone is None or is_null(zone[1]) else self.domain_name(zone[1])
        problem = base_problem(base)
        if problem is not None:
            raise self.error(zone[1] if zone is not None else flatten, f"flatten.macro_zone: {problem}")

    def chain_name(self, node: yaml.Node) -> str:
        template = self.text(node, "flatten.chain_name")
        if "{n}" not in template and "{hash}" not in template:
            raise self.error(node, "flatten.chain_name must contain {n} or {hash}, e.g. '_spf{n}'")
        try:
            sample = template.format(n=1, hash="0" * 10)  # a hash is 10 hex digits
        except (KeyError, IndexError, ValueError, AttributeError):
            raise self.error(node, "flatten.chain_name may use only {n} and {hash}") from None
        if not all(_CHAIN_LABEL.fullmatch(label) for label in sample.split(".")):
            raise self.error(node, f"flatten.chain_name {template!r} does not make a DNS name: use labels "
                                   "of letters, digits, '-' and '_' (at most 63), e.g. '_spf{n}'")
        return template

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
