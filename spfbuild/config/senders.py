"""One entry of a domain's `senders:` list -> a :class:`~spfbuild.config.model.Sender`: a
catalogue provider (with its region, variant and account parameters), an include, ip4/ip6
ranges, or an a/mx term. Every value is checked the way the record parser will read it."""

from __future__ import annotations

from dataclasses import replace

import yaml

from spfbuild.catalogue import Catalogue
from spfbuild.config.companions import CompanionReader
from spfbuild.config.model import QUALIFIERS, SENDER_KINDS, Sender
from spfbuild.config.nodes import Items, describe
from spfbuild.dnsname import name_problem
from spfbuild.idn import IDNError, to_ascii
from spfbuild.provider import CatalogueError, MissingParameterError
from spfbuild.record import IPNetwork, Qualifier
from spfbuild.recordparse import parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class SenderReader(CompanionReader):
    """Reads sender entries, resolving providers in `catalogue`."""

    def __init__(self, filename: str, catalogue: Catalogue) -> None:
        super().__init__(filename)
        self.catalogue = catalogue

    def sender(self, node: yaml.Node) -> Sender:
        items = self.mapping(node, "a sender")
        kinds = [k for k in SENDER_KINDS if k in items]
        if len(kinds) != 1:
            found = " and ".join(kinds) if kinds else "none"
            raise self.error(node, f"a sender needs exactly one of {', '.join(SENDER_KINDS)} (found {found})")
        kind = kinds[0]
        allowed = (kind, "qualifier", "comment", "dkim") + (("region", "variant") if kind == "provider" else ())
        if kind == "provider":
            allowed += self.parameter_keys(items[kind][1])
        self.refuse_unknown(items, allowed, f"a {kind} sender")
        qualifier = self.qualifier(items["qualifier"][1]) if "qualifier" in items else Qualifier.PASS
        comment = str(self.scalar(items["comment"][1])) if "comment" in items else None
        value_node = items[kind][1]
        common: dict[str, Any] = {"location": self.loc(node), "qualifier": qualifier, "comment": comment}
        if kind == "provider":
            sender = self.provider_sender(items, value_node, common)
            if "dkim" in items:
                return replace(sender, dkim=self.dkim_request(items["dkim"][1], self.catalogue.get(sender.value or "")))
            return sender
        if "dkim" in items:
            common["dkim"] = self.dkim_request(items["dkim"][1], None)
        if kind == "include":
            return Sender("include", value=self.include_domain(value_node), **common)
        if kind in ("ip4", "ip6"):
            networks = tuple(self.network(n, kind) for n in self.items(value_node, kind))
            if not networks:
                raise self.error(value_node, f"{kind} is an empty list")
            return Sender(kind, networks=networks, **common)
        return self.host_sender(kind, value_node, common)

    def provider_sender(self, items: Items, value_node: yaml.Node, common: dict[str, Any]) -> Sender:
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
            raise self.error(node, f"{name} must be text or a number, got {describe(value)}")
        return str(value).strip()

    def ascii_name(self, node: yaml.Node, name: str) -> str:
        """An internationalised name as its A-labels (IDNA 2008)."""
        try:
            return to_ascii(name)
        except IDNError as exc:
            raise self.error(node, str(exc)) from None

    def include_domain(self, node: yaml.Node) -> str:
        value = self.ascii_name(node, self.text(node, "include"))
        parsed = parse(f"v=spf1 include:{value}")
        errors = [d for d in parsed.diagnostics if d.is_error]
        if errors:
            raise self.error(node, f"include: {errors[0].message}")
        problem = _name_problem(value)
        if problem is not None:
            raise self.error(node, f"include: {problem}")
        return value

    def host_sender(self, kind: str, node: yaml.Node, common: dict[str, Any]) -> Sender:
        value = self.scalar(node)
        if value is True:
            return Sender(kind, **common)
        if not isinstance(value, str):
            raise self.error(node, f"{kind} must be a domain, a domain/cidr, or true, got {describe(value)}")
        value = self.ascii_name(node, value.strip())
        term = f"{kind}:{value}" if not value.startswith("/") else f"{kind}{value}"
        parsed = parse(f"v=spf1 {term}")
        errors = [d for d in parsed.diagnostics if d.is_error]
        if errors or not parsed.record.mechanisms:
            message = errors[0].message if errors else "invalid value"
            raise self.error(node, f"{kind}: {message}")
        mech = parsed.record.mechanisms[0]
        problem = _name_problem(mech.domain) if mech.domain else None
        if problem is not None:
            raise self.error(node, f"{kind}: {problem}")
        return Sender(kind, value=mech.domain, prefix4=mech.prefix4, prefix6=mech.prefix6, **common)

    def network(self, node: yaml.Node, kind: str) -> IPNetwork:
        value = self.scalar(node)
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
        if text is None:
            raise self.error(node, f"{kind} entries must be addresses or networks, got {describe(value)}")
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
            raise self.error(node, f"qualifier must be pass, fail, softfail or neutral, got {describe(value)}")
        return QUALIFIERS[value.lower()]


def _name_problem(name: str) -> str | None:
    """Why DNS cannot carry a name a config gives (`dnsname`; one trailing dot allowed), or None
    when it holds macros: RFC 7208 leaves receivers' result for a name DNS cannot carry
    undefined, so a record must never hold one, but a macro is expanded per message (and
    receivers truncate long expansions, RFC 7208 section 7.3)."""
    return None if "%" in name else name_problem(name.removesuffix("."))
