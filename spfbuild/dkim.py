"""DKIM records a sender needs (RFC 6376 section 3.6.2): for each selector, a CNAME to a key the
provider hosts and rotates, or a TXT key the customer publishes, at
`<selector>._domainkey.<domain>`. The catalogue says which form a provider uses, its selectors
and its CNAME targets; a sender's `dkim:` entry supplies the rest.

Values only: every problem is a :class:`DkimError` in one line.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from spfbuild.config.model import DkimRequest
from spfbuild.errors import SPFBuildError
from spfbuild.provider import MissingParameterError, Provider
from spfbuild.taglist import parse_tags

__all__ = [
    "DkimError", "DkimRecord", "check_request", "dkim_name", "is_dkim_key", "key_record", "records_for",
    "selector_problem",
]

KEY_TYPES = ("rsa", "ed25519")  # RFC 6376 section 3.6.1 and RFC 8463
_SELECTOR_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")
_PEM = re.compile(r"-----(BEGIN|END) [A-Z ]+-----")


class DkimError(SPFBuildError):
    """A sender's DKIM records cannot be built; the message says which value is missing or wrong."""


@dataclass(frozen=True)
class DkimRecord:
    selector: str
    type: str  # "CNAME" or "TXT"
    value: str  # the CNAME target (absolute, no trailing dot) or the TXT key record


def dkim_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def selector_problem(selector: str) -> str | None:
    """Why a selector cannot name a key: it is one or more DNS labels (RFC 6376 section 3.1)."""
    if not all(_SELECTOR_LABEL.fullmatch(label) for label in selector.split(".")):
        return f"'{selector}' is not a DKIM selector: use letters, digits, '-' and '_' between dots"
    return None


def is_dkim_key(text: str) -> bool:
    """Whether a TXT value is a DKIM key record that declares itself one (`v=DKIM1` first,
    RFC 6376 section 3.6.1): the only TXT spfbuild replaces at a selector's name, and one
    that may be broken otherwise (`key_record` checks a key given in a config)."""
    head = text.lstrip(" \t").split(";", 1)[0]
    name, _, value = head.partition("=")
    return name.strip() == "v" and value.strip() == "DKIM1"


def key_record(text: str) -> str:
    """The TXT record for a public key given as a whole key record (`v=DKIM1; k=rsa; p=...`),
    as the base64 key alone, or as a PEM block; the key must be base64 (RFC 6376 section 3.6.1)."""
    given = " ".join(text.split())
    if _PEM.search(given):
        given = "".join(_PEM.sub("", given).split())
    if ("=" in given and ";" in given) or given.startswith(("v=", "k=", "p=")):
        tags = parse_tags(given)
        if tags.malformed:
            raise DkimError(f"DKIM key: '{tags.malformed[0].name}' is not tag=value")
        if tags.duplicates():
            raise DkimError(f"DKIM key: the tag '{tags.duplicates()[0].name}' is given twice")
        version = tags.first("v")
        if version is not None and (tags.tags[0].name != "v" or version.value != "DKIM1"):
            raise DkimError("DKIM key: v= must come first and be DKIM1")
        kind = tags.first("k")
        if kind is not None and kind.value not in KEY_TYPES:
            raise DkimError(f"DKIM key: k={kind.value} is not a key type: use {' or '.join(KEY_TYPES)}")
        key = tags.first("p")
        if key is None or not key.value:
            raise DkimError("DKIM key: the record has no public key (p=)")
        _check_base64(key.value)
        return "; ".join(f"{tag.name}={''.join(tag.value.split()) if tag.name == 'p' else tag.value}"
                         for tag in tags.tags)
    bare = "".join(given.split())
    _check_base64(bare)
    return f"v=DKIM1; k=rsa; p={bare}"


def _check_base64(value: str) -> None:
    compact = "".join(value.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise DkimError("DKIM key: the public key is not base64 (copy it as the provider shows it)") from None


def check_request(provider: Provider | None, request: DkimRequest) -> None:
    """Whether `request` gives what the provider's DKIM records need (or, for a sender that is
    not a catalogue provider, a key or targets of its own)."""
    records_for("example.com", provider, request)


def records_for(domain: str, provider: Provider | None, request: DkimRequest) -> tuple[DkimRecord, ...]:
    """The DKIM records `domain` publishes for a sender declared with `request`."""
    if request.key is not None:
        selector = request.selector or _only_selector(provider)
        return (DkimRecord(selector, "TXT", request.key),)
    if request.targets:
        return tuple(DkimRecord(selector, "CNAME", target) for selector, target in request.targets)
    if provider is None:
        raise DkimError("dkim: give the selector and key (dkim: {selector: s1, key: ...}) or CNAME targets "
                        "(dkim: {targets: {s1: ...}})")
    dkim = provider.dkim
    if dkim.signs_with_customer_domain is False:
        raise DkimError(f"provider {provider.id}: {provider.name} does not sign with the customer's domain, "
                        "so it has no DKIM records to publish")
    if dkim.record == "txt":
        hint = f"dkim: {{selector: {dkim.selectors[0]}, key: ...}}" if dkim.selectors else \
            "dkim: {selector: ..., key: ...}"
        raise DkimError(f"DKIM for provider {provider.id} is a TXT key {provider.name} shows: give it as {hint}")
    if dkim.record == "cname" and dkim.targets:
        try:
            pairs = dkim.cname_targets(provider.id, domain, dict(request.parameters))
        except MissingParameterError as exc:
            raise DkimError(str(exc)) from None
        return tuple(DkimRecord(selector, "CNAME", target) for selector, target in pairs)
    if dkim.record == "cname":
        shown = ", ".join(f"{s}: ..." for s in dkim.selectors) or "selector: target, ..."
        raise DkimError(f"DKIM for provider {provider.id}: its CNAME targets are specific to each customer; "
                        f"give them as {provider.name} shows them, dkim: {{targets: {{{shown}}}}}")
    raise DkimError(f"provider {provider.id}: the catalogue has no DKIM facts for {provider.name}; give the "
                    "records it shows as dkim: {targets: {...}} or dkim: {selector: ..., key: ...}")


def _only_selector(provider: Provider | None) -> str:
    selectors = provider.dkim.selectors if provider is not None else ()
    if len(selectors) == 1:
        return selectors[0]
    raise DkimError("dkim: a key needs its selector (dkim: {selector: s1, key: ...})")
