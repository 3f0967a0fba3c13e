"""The values a config file describes: domains, their senders and flatten settings. Positions
are kept beside the values (``location``) and are optional, so a config can be built in code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spfbuild.dmarc import DmarcPolicy
from spfbuild.errors import SPFBuildError
from spfbuild.limits import DEFAULT_MACRO_MAX_RECORDS, DEFAULT_TTL, MAX_LOOKUPS, MAX_RECORD_BYTES
from spfbuild.record import IPNetwork, Qualifier

POLICIES = {"fail": Qualifier.FAIL, "softfail": Qualifier.SOFTFAIL, "neutral": Qualifier.NEUTRAL}
QUALIFIERS = {
    "pass": Qualifier.PASS, "fail": Qualifier.FAIL, "softfail": Qualifier.SOFTFAIL, "neutral": Qualifier.NEUTRAL,
    "+": Qualifier.PASS, "-": Qualifier.FAIL, "~": Qualifier.SOFTFAIL, "?": Qualifier.NEUTRAL,
}
SENDER_KINDS = ("provider", "include", "ip4", "ip6", "a", "mx")
DOMAIN_KEYS = ("domain", "policy", "senders", "existing", "ttl", "flatten", "mail_from", "dmarc", "example_ranges",
               "publish")
PUBLISH_KEYS = ("rfc2136", "tsig_key", "zone")
FLATTEN_KEYS = ("max_lookups", "keep", "max_record_bytes", "reserve_bytes", "chain_name", "self_check", "mode",
                "macro_zone", "macro_max_records")
FLATTEN_MODES = ("ranges", "macro", "auto")


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
class DkimRequest:
    """A sender's `dkim:` entry: publish its DKIM records. Catalogue parameters of the CNAME
    targets (Microsoft 365's tenant), a selector and public key for a TXT key, or CNAME targets
    given as the provider shows them (which take precedence over the catalogue's)."""

    location: Location | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    selector: str | None = None
    key: str | None = None  # the TXT record's text, "v=DKIM1; k=rsa; p=..."
    targets: tuple[tuple[str, str], ...] = ()  # selector -> CNAME target


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
    dkim: DkimRequest | None = None  # publish this sender's DKIM records

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
    mode: str = "ranges"  # one of FLATTEN_MODES; auto: macro when the ranges do not fit
    macro_zone: str | None = None  # the compiled zone's base; None: the domain itself
    macro_max_records: int = DEFAULT_MACRO_MAX_RECORDS


@dataclass(frozen=True)
class PublishSpec:
    """Where `flatten --state` publishes a domain: an RFC 2136 primary, the TSIG key file (an
    absolute path) and the zone, None to ask the server for the domain's SOA."""

    host: str
    port: int
    tsig_key: Path
    zone: str | None = None
    location: Location | None = field(default=None, compare=False)  # where the config declared it


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
    dmarc: DmarcPolicy | None = None  # the DMARC record to publish at _dmarc.<domain>
    dmarc_location: Location | None = None
    policy_inherited: bool = False  # `policy` came from `defaults:`: it never changes an existing `all`
    example_ranges: tuple[IPNetwork, ...] = ()  # ranges meant as examples: not reported as non-public
    publish: PublishSpec | None = None  # where `flatten --state` publishes it; None: only --push does


@dataclass(frozen=True)
class Config:
    path: str  # the file it was read from, or a name of the caller's choosing
    domains: tuple[DomainSpec, ...]
