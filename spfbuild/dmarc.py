"""DMARC policy records (RFC 7489): the value each tag may hold, the record spfbuild publishes at
`_dmarc.<domain>`, and which report destinations must authorise the domain (section 7.1).

The one implementation of RFC 7489's tag grammar: the `dmarc:` config key, the DMARC1xx lint
rules and `check` all ask these functions. Values only: no DNS, no printing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spfbuild.limits import DMARC_MAX_INTERVAL, DMARC_PCT_MAX
from spfbuild.orgdomain import organisational_domain

__all__ = [
    "ALIGNMENT_MODES", "FAILURE_OPTIONS", "KNOWN_TAGS", "POLICIES", "VERSION", "DmarcPolicy", "alignment_problem",
    "dmarc_name", "external_destinations", "failure_options_problem", "interval_problem", "is_dmarc_record",
    "pct_problem", "policy_problem", "report_authorisation_name", "report_format_problem", "uri_domain",
    "uri_problem", "uri_scheme", "uris_problem",
]

VERSION = "DMARC1"
POLICIES = ("none", "quarantine", "reject")
ALIGNMENT_MODES = ("r", "s")  # relaxed, strict
FAILURE_OPTIONS = ("0", "1", "d", "s")
REPORT_FORMATS = ("afrf",)
# Section 6.3, in the order spfbuild writes them (v first, as the RFC requires).
KNOWN_TAGS = ("v", "p", "sp", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri")

_DIGITS = re.compile(r"[0-9]+")
_SIZE = re.compile(r"[0-9]+[kmgt]?", re.IGNORECASE)  # dmarc-uri's "!" size limit (section 6.4)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")  # dot-atom text, '%' for percent-encoding
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def is_dmarc_record(text: str) -> bool:
    """Whether a TXT value is meant as a DMARC record: it starts with a `v=DMARC1` tag
    (section 6.6.3 discards the others), spaces around '=' and any case forgiven so that a
    misspelt one is still linted as DMARC."""
    head = text.lstrip(" \t\"").split(";", 1)[0]
    name, _, value = head.partition("=")
    return name.strip().lower() == "v" and value.strip().lower() == VERSION.lower()


def policy_problem(value: str) -> str | None:
    if value not in POLICIES:
        return f"'{value}' is not a policy: use none, quarantine or reject"
    return None


def pct_problem(value: str) -> str | None:
    if not _DIGITS.fullmatch(value) or int(value) > DMARC_PCT_MAX:
        return f"'{value}' is not a percentage: pct is a whole number from 0 to {DMARC_PCT_MAX}"
    return None


def alignment_problem(value: str) -> str | None:
    if value not in ALIGNMENT_MODES:
        return f"'{value}' is not an alignment mode: use r (relaxed) or s (strict)"
    return None


def failure_options_problem(value: str) -> str | None:
    bad = [part for part in value.split(":") if part.strip() not in FAILURE_OPTIONS]
    if bad:
        return f"'{value}' is not a list of failure options: use 0, 1, d or s, separated by ':'"
    return None


def report_format_problem(value: str) -> str | None:
    bad = [part for part in value.split(":") if part.strip().lower() not in REPORT_FORMATS]
    return f"'{value}' is not a report format: the only one defined is afrf" if bad else None


def interval_problem(value: str) -> str | None:
    if not _DIGITS.fullmatch(value) or int(value) > DMARC_MAX_INTERVAL:
        return f"'{value}' is not a report interval: ri is a whole number of seconds"
    return None


def uri_scheme(uri: str) -> str:
    return uri.partition(":")[0].strip().lower()


def uri_problem(uri: str) -> str | None:
    """Why one entry of rua= or ruf= is not a `dmarc-uri` (section 6.4): a URI, commas and '!'
    percent-encoded, with an optional `!size` limit; a `mailto:` URI must hold one address."""
    body, bang, size = uri.strip().partition("!")
    if bang and not _SIZE.fullmatch(size):
        return f"'{uri}': the size limit after '!' is digits with an optional k, m, g or t"
    scheme, colon, rest = body.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme) or not rest:
        return f"'{uri}' is not a URI: report addresses are written mailto:address"
    if any(ch.isspace() for ch in body) or "," in body:
        return f"'{uri}': spaces and commas in a report URI must be percent-encoded"
    if scheme.lower() != "mailto":
        return None  # other schemes are URIs; whether receivers use them is the lint rule's concern
    address = rest.split("?", 1)[0]
    local, at, domain = address.rpartition("@")
    if not at or not local or not _LOCAL.fullmatch(local) or ".." in local or not _domain_ok(domain):
        return f"'{uri}': '{address}' is not an email address"
    return None


def uris_problem(value: str) -> str | None:
    """The first problem of a comma-separated rua= or ruf= value."""
    for uri in value.split(","):
        problem = uri_problem(uri)
        if problem is not None:
            return problem
    return None


def uri_domain(uri: str) -> str | None:
    """The domain reports to a `mailto:` URI go to; None for other schemes."""
    body = uri.strip().split("!", 1)[0]
    if uri_scheme(body) != "mailto":
        return None
    address = body.partition(":")[2].split("?", 1)[0]
    return address.rpartition("@")[2].lower().rstrip(".") or None


def _domain_ok(domain: str) -> bool:
    labels = domain.rstrip(".").split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def dmarc_name(domain: str) -> str:
    return f"_dmarc.{domain}"


def report_authorisation_name(domain: str, destination: str) -> str:
    """Where a report destination outside the domain's organisation says it accepts reports
    about `domain` (RFC 7489 section 7.1)."""
    return f"{domain}._report._dmarc.{destination}"


def external_destinations(domain: str, uris: tuple[str, ...]) -> tuple[str, ...]:
    """The domains of `mailto:` report URIs outside `domain`'s organisation, each once: they
    must publish the authorisation record before receivers send them reports."""
    home = organisational_domain(domain)
    found: list[str] = []
    for uri in uris:
        target = uri_domain(uri)
        if target and organisational_domain(target) != home and target not in found:
            found.append(target)
    return tuple(found)


@dataclass(frozen=True)
class DmarcPolicy:
    """A DMARC record's tags as spfbuild publishes them; None (or empty) where a tag is left to
    its default."""

    policy: str
    subdomain_policy: str | None = None
    pct: int | None = None
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    adkim: str | None = None
    aspf: str | None = None
    fo: str | None = None
    ri: int | None = None

    @property
    def text(self) -> str:
        parts = [f"v={VERSION}", f"p={self.policy}"]
        optional = (("sp", self.subdomain_policy), ("pct", self.pct), ("rua", ",".join(self.rua) or None),
                    ("ruf", ",".join(self.ruf) or None), ("adkim", self.adkim), ("aspf", self.aspf),
                    ("fo", self.fo), ("ri", self.ri))
        parts += [f"{tag}={value}" for tag, value in optional if value is not None]
        return "; ".join(parts)

    @property
    def enforcing(self) -> bool:
        """Whether receivers are asked to act on failing mail (quarantine or reject), for the
        domain or for its subdomains."""
        return self.policy != "none" or self.subdomain_policy not in (None, "none")

    @property
    def strictest(self) -> str:
        order = {name: rank for rank, name in enumerate(POLICIES)}
        return max((self.policy, self.subdomain_policy or self.policy), key=order.__getitem__)
