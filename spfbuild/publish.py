"""Publishing with RFC 2136 dynamic updates signed with TSIG, then verifying by query.

One UPDATE per zone, guarded by the zone's SOA as read before (a concurrent edit makes the
server refuse it), adds new content-addressed chained records (a macro-compiled zone, too big
for one message, is added before it in UPDATEs of its own, under a label nothing references
yet), swaps the main record's old
`v=spf1` TXT for the new one (deleting only that RDATA, never the other TXT records at the
name), and deletes chained records whose TTL has passed since they were last referenced.
All of it commits as one zone version: no version has zero or two `v=spf1` records at a name,
or a main record that names a chained record that does not exist.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from spfbuild.emit import TxtRecord
from spfbuild.errors import SPFBuildError
from spfbuild.failure import Kind
from spfbuild.recordparse import is_spf_record
from spfbuild.txt import quote_all, split_strings

if TYPE_CHECKING:
    from spfbuild.publish_companions import CompanionPlan

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


# --- talking to the server (dnspython imported lazily: offline commands never load it) ---------


def _keyring(key: TsigKey) -> Any:
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
        raise PublishError(f"{target}: cannot query {name} {rdtype}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
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


@dataclass(frozen=True)
class Change:
    """What one domain's update does."""

    domain: str
    records: tuple[TxtRecord, ...]  # the intended main record first, then chained records
    old_spf: tuple[str, ...]  # v=spf1 values at the domain now, to delete
    present: frozenset[str]  # chained names that already hold the intended value
    delete: tuple[str, ...]  # retired chained names whose TTL has passed
    compiled: bool = False  # the chained records are a macro-compiled zone (thousands of names)
    note: str | None = None  # what was done differently from the config, in one line (the TTL kept)
    companions: CompanionPlan | None = None  # the DKIM and DMARC records' part of the update


# A macro-compiled zone is too big for one DNS message (64 KiB): its records go first, in UPDATEs
# of this many names, under a label nothing references yet; the main record switches to it in the
# last one. Its names are content-addressed, so a main record that already names the label proves
# the whole zone was committed before it: the names are not asked one by one.
BULK = 1000
VERIFY_SAMPLE = 64


def plan_change(target: PushTarget, records: Sequence[TxtRecord], delete: Sequence[str], timeout: float,
                *, compiled: bool = False) -> Change:
    main, chains = records[0], records[1:]
    if not all(target.contains(r.name) for r in records):
        outside = next(r.name for r in records if not target.contains(r.name))
        raise PublishError(f"{outside} is not inside the zone {target.zone}", Kind.DATA)
    live_main = read_txt(target, main.name, timeout)
    note = None
    # A TXT RRset has one TTL: the v=spf1 record takes the one the other records there (site
    # verifications) already have, rather than changing theirs.
    if live_main.others and live_main.ttl is not None and live_main.ttl != main.ttl:
        note = (f"{main.name}: published at TTL {live_main.ttl}, not the configured {main.ttl}: the other TXT "
                f"records there have TTL {live_main.ttl} and a TXT RRset has one TTL (theirs is kept)")
        main = replace(main, ttl=live_main.ttl)
    if compiled:
        present = frozenset(c.name for c in chains) if live_main.spf == (main.value,) else frozenset()
    else:
        present = frozenset(c.name for c in chains if read_txt(target, c.name, timeout).values == (c.value,))
    referenced = {c.name for c in chains}
    return Change(main.name, (main, *chains), live_main.spf, present,
                  tuple(n for n in delete if n not in referenced), compiled, note)


def is_noop(change: Change) -> bool:
    main = change.records[0]
    return change.old_spf == (main.value,) and not change.delete and all(
        c.name in change.present for c in change.records[1:]
    ) and (change.companions is None or change.companions.noop)



def send_update(target: PushTarget, key: TsigKey, changes: Sequence[Change], soa: Any, timeout: float) -> None:
    import dns.query
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdataset
    import dns.rdatatype
    import dns.update

    for chunk in _bulk(changes):
        bulk = dns.update.UpdateMessage(target.zone, keyring=_keyring(key))
        bulk.present(soa.name, dns.rdataset.from_rdata_list(0, list(soa)))
        for record in chunk:
            bulk.delete(record.name + ".", "TXT")
            bulk.add(record.name + ".", record.ttl, txt_rdata(record.value))
        _send(target, bulk, timeout)
        soa = read_soa(target, timeout)
    update = dns.update.UpdateMessage(target.zone, keyring=_keyring(key))
    # Refused if the zone changed since it was read; prerequisite records carry TTL 0 (RFC 2136 3.2.1).
    update.present(soa.name, dns.rdataset.from_rdata_list(0, list(soa)))
    for change in changes:
        for chain in change.records[1:]:
            if chain.name not in change.present and not change.compiled:
                update.delete(chain.name + ".", "TXT")
                update.add(chain.name + ".", chain.ttl, txt_rdata(chain.value))
        main = change.records[0]
        if change.old_spf != (main.value,):
            for old in change.old_spf:
                update.delete(main.name + ".", txt_rdata(old))
            update.add(main.name + ".", main.ttl, txt_rdata(main.value))
        for name in change.delete if not change.compiled else ():
            update.delete(name + ".", "TXT")
        if change.companions is not None:
            from spfbuild.publish_companions import add_to_update  # it builds on this module

            add_to_update(update, change.companions)
    _send(target, update, timeout)
    # Retired compiled names are referenced by nothing: deleted after the switch, in bulk.
    deletes = [name for change in changes if change.compiled for name in change.delete]
    for start in range(0, len(deletes), BULK):
        cleanup = dns.update.UpdateMessage(target.zone, keyring=_keyring(key))
        for name in deletes[start : start + BULK]:
            cleanup.delete(name + ".", "TXT")
        _send(target, cleanup, timeout)


def _bulk(changes: Sequence[Change]) -> list[list[TxtRecord]]:
    """The compiled records to add before the main records switch, in UPDATE-sized chunks."""
    records = [r for c in changes if c.compiled for r in c.records[1:] if r.name not in c.present]
    return [records[i : i + BULK] for i in range(0, len(records), BULK)]


def _send(target: PushTarget, update: Any, timeout: float) -> None:
    import dns.query
    import dns.rcode

    try:
        response = dns.query.tcp(update, target.host, port=target.port, timeout=timeout)
    except Exception as exc:  # timeouts, connection refused, TSIG failures on the response
        raise PublishError(f"{target}: update failed: {_tsig_hint(exc)}") from None
    rcode = response.rcode()
    if rcode != dns.rcode.NOERROR:
        why = {
            dns.rcode.NOTAUTH: "NOTAUTH: the server rejected the TSIG key or is not authoritative",
            dns.rcode.REFUSED: "REFUSED: the key may not update this zone",
            dns.rcode.NXRRSET: "NXRRSET: the zone changed while spfbuild was planning; run again",
        }.get(rcode, dns.rcode.to_text(rcode))
        raise PublishError(f"{target}: update refused: {why}")


def _tsig_hint(exc: BaseException) -> str:
    name = type(exc).__name__
    if name in ("PeerBadKey", "PeerBadSignature", "PeerBadTime", "PeerBadTruncation", "BadSignature"):
        return f"TSIG {name}: the server does not accept this key (wrong name, algorithm or secret)"
    return _describe(exc)


def txt_rdata(value: str) -> Any:
    """A TXT value as dnspython's rdata, in strings of at most 255 bytes."""
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, quote_all(split_strings(value)))


def verify(target: PushTarget, changes: Sequence[Change], timeout: float) -> None:
    """Query the server: each name must hold exactly what was intended."""
    for change in changes:
        main, chains = change.records[0], change.records[1:]
        spf = read_txt(target, main.name, timeout).spf
        if spf != (main.value,):
            raise PublishError(f"{target}: after the update {main.name} holds {list(spf)}, not the intended record")
        # A compiled zone is verified by a sample spread over it (each UPDATE is atomic).
        step = max(1, len(chains) // VERIFY_SAMPLE) if change.compiled else 1
        for chain in chains[::step]:
            if read_txt(target, chain.name, timeout).values != (chain.value,):
                raise PublishError(f"{target}: after the update {chain.name} does not hold the intended record")
        for name in change.delete[:: max(1, len(change.delete) // VERIFY_SAMPLE) if change.compiled else 1]:
            if read_txt(target, name, timeout).values:
                raise PublishError(f"{target}: {name} still exists after its deletion")
        if change.companions is not None:
            from spfbuild.publish_companions import verify_companions

            verify_companions(target, change.companions, timeout)
