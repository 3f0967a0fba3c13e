"""An RFC 2136 primary server and its TSIG key as a config names them, and the questions asked
of the server about its own data (dnspython imported lazily: offline commands never load it).
`spfbuild.publish` sends the updates; `spfbuild.publish_companions` plans the DKIM and DMARC
records' part of them.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from spfbuild.errors import SPFBuildError
from spfbuild.failure import Kind
from spfbuild.recordparse import is_spf_record
from spfbuild.txt import quote_all, split_strings

ALGORITHMS = ("hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", "hmac-md5")


class PublishError(SPFBuildError):
    """Publishing cannot go on; `kind` says whether the server or network failed (the default:
    most of these come from talking to the server) or the data does not fit it."""

    def __init__(self, message: str, kind: Kind = Kind.DNS) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class PushServer:
    """A primary server that accepts RFC 2136 updates."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"rfc2136://{host}:{self.port}"

    def at(self, zone: str) -> PushTarget:
        return PushTarget(self.host, self.port, zone)


@dataclass(frozen=True)
class PushTarget:
    host: str
    port: int
    zone: str

    def __str__(self) -> str:
        return f"{self.server}/{self.zone}"

    @property
    def server(self) -> PushServer:
        return PushServer(self.host, self.port)

    def contains(self, name: str) -> bool:
        return in_zone(name, self.zone)


@dataclass(frozen=True)
class TsigKey:
    name: str
    algorithm: str
    secret: str


def in_zone(name: str, zone: str) -> bool:
    name = name.lower().rstrip(".")
    return name == zone or name.endswith("." + zone)


def parse_push_server(url: str) -> tuple[PushServer, str | None]:
    """`rfc2136://HOST[:PORT][/ZONE]` -> the server and the zone, None when not given."""
    parts = urlsplit(url.strip())
    zone = parts.path.strip("/").lower().rstrip(".") or None
    if parts.scheme != "rfc2136" or not parts.hostname or parts.query or parts.fragment:
        raise PublishError(f"{url!r} is not of the form rfc2136://HOST[:PORT][/ZONE]", Kind.DATA)
    try:
        port = parts.port or 53
    except ValueError:
        raise PublishError(f"bad port in {url!r}", Kind.DATA) from None
    return PushServer(parts.hostname, port), zone


def parse_push_url(url: str) -> PushTarget:
    server, zone = parse_push_server(url)
    if zone is None:
        raise PublishError(f"{url!r} names no zone: rfc2136://HOST[:PORT]/ZONE", Kind.DATA)
    return server.at(zone)


_KEY = re.compile(
    r'key\s+"?(?P<name>[^"\s{]+)"?\s*\{(?P<body>[^}]*)\}\s*;', re.IGNORECASE | re.DOTALL
)


def load_tsig_key(path: Path) -> tuple[TsigKey, list[str]]:
    """Read a BIND key file (`tsig-keygen` output). Returns the key and warnings."""
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise PublishError(f"{path}: cannot read TSIG key file: {getattr(exc, 'strerror', None) or exc}") from None
    match = _KEY.search(text)
    if match is None:
        raise PublishError(f'{path}: no `key "NAME" {{ algorithm ...; secret "..."; }};` block')
    body = match.group("body")
    algorithm = re.search(r"algorithm\s+\"?([A-Za-z0-9-]+)\"?\s*;", body)
    secret = re.search(r'secret\s+"([^"]+)"\s*;', body)
    if algorithm is None or secret is None:
        raise PublishError(f"{path}: the key block needs both algorithm and secret")
    if algorithm.group(1).lower() not in ALGORITHMS:
        raise PublishError(f"{path}: unsupported TSIG algorithm {algorithm.group(1)!r}")
    warnings = []
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warnings.append(f"{path} is readable by other users; `chmod 600 {path}` keeps the TSIG secret secret")
    return TsigKey(match.group("name").rstrip("."), algorithm.group(1).lower(), secret.group(1)), warnings


def keyring(key: TsigKey) -> Any:
    """The key as dnspython signs with it."""
    import dns.name
    import dns.tsig

    return dns.tsig.Key(dns.name.from_text(key.name), key.secret, dns.name.from_text(key.algorithm))


def ask(target: PushServer | PushTarget, name: str, rdtype: str, timeout: float) -> Any:
    """The push server's answer about its own data (over TCP, recursion off); PublishError when
    it gives none."""
    import dns.message
    import dns.query

    query = dns.message.make_query(name, rdtype)
    query.flags &= ~0x0100  # RD off: ask the primary for its own data
    try:
        return dns.query.tcp(query, target.host, port=target.port, timeout=timeout)
    except Exception as exc:  # timeouts, refused connections, malformed answers
        raise PublishError(f"{target}: cannot query {name} {rdtype}: {describe_failure(exc)}") from None


def describe_failure(exc: BaseException) -> str:
    """A failure talking to the server, in a few words."""
    text = str(exc) or type(exc).__name__
    if "timed out" in text.lower() or type(exc).__name__ == "Timeout":
        return "timed out"
    return text


@dataclass(frozen=True)
class Live:
    """TXT records at a name on the push server, each as its joined value, and the RRset's TTL."""

    values: tuple[str, ...]
    ttl: int | None = None  # None: no TXT records there

    @property
    def spf(self) -> tuple[str, ...]:
        return tuple(v for v in self.values if is_spf_record(v))

    @property
    def others(self) -> tuple[str, ...]:
        return tuple(v for v in self.values if not is_spf_record(v))


def read_txt(target: PushTarget, name: str, timeout: float) -> Live:
    import dns.rcode
    import dns.rdatatype

    response = ask(target, name, "TXT", timeout)
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        raise PublishError(f"{target}: {dns.rcode.to_text(rcode)} for {name} TXT")
    values, ttl = [], None
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            values += [b"".join(r.strings).decode("utf-8", "surrogateescape") for r in rrset]
            ttl = rrset.ttl
    return Live(tuple(values), ttl)


def find_zone(server: PushServer, name: str, timeout: float) -> str:
    """The zone holding `name` on `server`: the owner of the SOA it answers with authority, in
    the answer (`name` is the apex) or in the authority section (a name below it)."""
    import dns.flags
    import dns.rcode
    import dns.rdatatype

    response = ask(server, name, "SOA", timeout)
    rcode = response.rcode()
    if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN) and response.flags & dns.flags.AA:
        for rrset in (*response.answer, *response.authority):
            owner = rrset.name.to_text(omit_final_dot=True).lower()
            if rrset.rdtype == dns.rdatatype.SOA and in_zone(name, owner):
                return str(owner)
    if rcode == dns.rcode.SERVFAIL:
        raise PublishError(f"{server}: SERVFAIL for {name} SOA")
    why = dns.rcode.to_text(rcode) if rcode != dns.rcode.NOERROR else "no authoritative SOA"
    # The server answered: the config names the wrong server for this domain.
    raise PublishError(f"{server}: cannot find the zone of {name} ({why}): the server is not its primary", Kind.DATA)


def read_soa(target: PushTarget, timeout: float) -> Any:
    import dns.rdatatype

    response = ask(target, target.zone, "SOA", timeout)
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset
    raise PublishError(f"{target}: the server is not authoritative for {target.zone} (no SOA)")


def txt_rdata(value: str) -> Any:
    """A TXT value as dnspython's rdata, in strings of at most 255 bytes."""
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, quote_all(split_strings(value)))
