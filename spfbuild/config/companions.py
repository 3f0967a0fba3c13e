"""The config keys for the records beside SPF: a sender's `dkim:` entry and a domain's `dmarc:`
(RFC 7489 tags by name), each value checked by the module that owns its rule, each error naming
the file, line and column."""

from __future__ import annotations

import yaml

from spfbuild import dmarc as rfc7489
from spfbuild.config.model import DkimRequest
from spfbuild.config.nodes import NodeReader, describe, is_null
from spfbuild.dnsname import name_problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from spfbuild.provider import Provider

DKIM_KEYS = ("selector", "key", "targets")
# config key -> (RFC 7489 tag, the check of its value)
DMARC_KEYS: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "policy": ("p", rfc7489.policy_problem),
    "subdomain_policy": ("sp", rfc7489.policy_problem),
    "pct": ("pct", rfc7489.pct_problem),
    "rua": ("rua", rfc7489.uri_problem),
    "ruf": ("ruf", rfc7489.uri_problem),
    "adkim": ("adkim", rfc7489.alignment_problem),
    "aspf": ("aspf", rfc7489.alignment_problem),
    "fo": ("fo", rfc7489.failure_options_problem),
    "ri": ("ri", rfc7489.interval_problem),
}
_ALIGNMENT_WORDS = {"relaxed": "r", "strict": "s"}


class CompanionReader(NodeReader):
    """Reads `dkim:` and `dmarc:`."""

    def dkim_request(self, node: yaml.Node, provider: Provider | None) -> DkimRequest | None:
        from spfbuild.dkim import DkimError, check_request, key_record, selector_problem

        where = self.loc(node)
        if isinstance(node, yaml.ScalarNode) and not is_null(node):
            value = self.scalar(node)
            if value is False:
                return None
            if value is not True:
                raise self.error(node, f"dkim must be true, false or a mapping, got {describe(value)}")
            request = DkimRequest(where)
        else:
            items = {} if is_null(node) else self.mapping(node, "dkim")
            names = provider.dkim.parameters if provider is not None else ()
            self.refuse_unknown(items, DKIM_KEYS + tuple(p.name for p in names), "dkim")
            parameters = tuple((p.name, self.text(items[p.name][1], f"dkim.{p.name}").lower())
                               for p in names if p.name in items)
            selector = key = None
            if "selector" in items:
                selector = self.text(items["selector"][1], "dkim.selector")
                problem = selector_problem(selector)
                if problem is not None:
                    raise self.error(items["selector"][1], f"dkim.selector: {problem}")
            if "key" in items:
                try:
                    key = key_record(self.text(items["key"][1], "dkim.key"))
                except DkimError as exc:
                    raise self.error(items["key"][1], str(exc)) from None
            targets = self.dkim_targets(items["targets"][1]) if "targets" in items else ()
            if key is not None and targets:
                raise self.error(node, "dkim: give either a key (a TXT record) or targets (CNAMEs), not both")
            request = DkimRequest(where, parameters, selector, key, targets)
        try:
            check_request(provider, request)
        except DkimError as exc:
            raise self.error(node, str(exc)) from None
        return request

    def dkim_targets(self, node: yaml.Node) -> tuple[tuple[str, str], ...]:
        from spfbuild.dkim import selector_problem

        found = []
        for selector, (key_node, value_node) in self.mapping(node, "dkim.targets").items():
            problem = selector_problem(selector)
            if problem is not None:
                raise self.error(key_node, f"dkim.targets: {problem}")
            target = self.text(value_node, f"dkim.targets.{selector}").lower().rstrip(".")
            labels = target.split(".")
            problem = name_problem(target) or (None if len(labels) >= 2 else "not a domain name")
            if problem is not None or not all(ch.isalnum() or ch in "-_." for ch in target):
                raise self.error(value_node, f"dkim.targets.{selector}: '{target}' is not a domain name")
            found.append((selector, target))
        if not found:
            raise self.error(node, "dkim.targets is empty")
        return tuple(found)

    def dmarc(self, node: yaml.Node) -> rfc7489.DmarcPolicy | None:
        if isinstance(node, yaml.ScalarNode) and self.scalar(node) is False:
            return None  # a domain that opts out of the defaults' dmarc
        items = self.mapping(node, "dmarc")
        self.refuse_unknown(items, tuple(DMARC_KEYS), "dmarc")
        if "policy" not in items:
            raise self.error(node, "dmarc needs 'policy:' (none, quarantine or reject)")
        values: dict[str, object] = {}
        for key, (_, value_node) in items.items():
            _, check = DMARC_KEYS[key]
            if key in ("rua", "ruf"):
                uris = tuple(self.dmarc_value(n, key, check) for n in self.items(value_node, f"dmarc.{key}"))
                if not uris:
                    raise self.error(value_node, f"dmarc.{key} is an empty list")
                values[key] = uris
                continue
            text = self.dmarc_value(value_node, key, check)
            values[key] = int(text) if key in ("pct", "ri") else text
        return rfc7489.DmarcPolicy(**values)  # type: ignore[arg-type]

    def dmarc_value(self, node: yaml.Node, key: str, check: Callable[[str], str | None]) -> str:
        value = self.scalar(node)
        if key == "fo" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # fo: 1 reads as a number
        if key in ("pct", "ri"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.error(node, f"dmarc.{key} must be a whole number, got {describe(value)}")
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.error(node, f"dmarc.{key} must be text, got {describe(value)}")
        text = value.strip()
        if key in ("policy", "subdomain_policy"):
            text = text.lower()
        if key in ("adkim", "aspf"):
            text = _ALIGNMENT_WORDS.get(text.lower(), text.lower())
        problem = check(text)
        if problem is None and key in ("rua", "ruf") and rfc7489.uri_scheme(text) != "mailto":
            problem = f"'{text}': receivers send reports to mailto: URIs, e.g. mailto:dmarc@example.com"
        if problem is not None:
            raise self.error(node, f"dmarc.{key}: {problem}")
        return text
