"""An asynchronous DNS client for SPF work, on dnspython.

Queries go straight to the configured servers (which may be authoritative-only), or to the
system's resolvers from /etc/resolv.conf. Every answer is a value, never an exception: SPF
evaluation must tell NXDOMAIN from NODATA (void lookups) and errors from absence (temperror).

dnspython is imported only inside this module, and lazily, so the offline commands never load
the DNS stack.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import dns.message
    import dns.name

DEFAULT_TIMEOUT = 5.0
DEFAULT_PORT = 53
# Following CNAMEs across answers: more hops than any sane zone needs, few enough to stop loops fast.
MAX_CNAME_HOPS = 8


class Outcome(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"  # NOERROR without an answer of the asked type
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"  # any other failure: FORMERR, network errors, names DNS cannot carry


TEMPORARY = frozenset({Outcome.SERVFAIL, Outcome.REFUSED, Outcome.TIMEOUT, Outcome.ERROR})


class MX(NamedTuple):
    preference: int
    exchange: str  # without the trailing dot; "." for the null MX (RFC 7505)


RData = str | MX


@dataclass(frozen=True)
class Answer:
    """The outcome of one question. `records` holds, by type: TXT the strings of each RR
    joined without spaces; A/AAAA addresses; MX `MX(preference, exchange)`; PTR names."""

    name: str  # lower case, no trailing dot
    rdtype: str
    outcome: Outcome
    records: tuple[RData, ...] = ()
    server: str | None = None  # HOST:PORT that gave the answer (or the last one tried)
    seconds: float = 0.0
    detail: str | None = None  # why, for `error` outcomes

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def is_void(self) -> bool:
        """NXDOMAIN or NODATA: what RFC 7208 section 4.6.4 calls a void lookup."""
        return self.outcome in (Outcome.NXDOMAIN, Outcome.NODATA)

    @property
    def is_temperror(self) -> bool:
        """A failure SPF maps to temperror (RFC 7208 section 2.6.6): not an answer at all."""
        return self.outcome in TEMPORARY

    @property
    def strings(self) -> tuple[str, ...]:
        """TXT strings, addresses or PTR names (MX records are skipped)."""
        return tuple(r for r in self.records if isinstance(r, str))

    @property
    def exchanges(self) -> tuple[MX, ...]:
        return tuple(r for r in self.records if isinstance(r, MX))

    @property
    def message(self) -> str:
        """One line for people, e.g. "SERVFAIL from 127.0.0.1:5353 for _spf.example.com TXT"."""
        where = f" from {self.server}" if self.server else ""
        question = f"{self.name} {self.rdtype}"
        if self.outcome is Outcome.OK:
            count = len(self.records)
            return f"{count} {self.rdtype} record{'' if count == 1 else 's'}{where} for {self.name}"
        if self.outcome is Outcome.TIMEOUT:
            return f"timeout: no answer{where} for {question}"
        if self.outcome is Outcome.ERROR:
            return f"error{where} for {question}: {self.detail or 'unknown error'}"
        return f"{self.outcome.value.upper()}{where} for {question}"


@dataclass(frozen=True)
class QueryRecord:
    """One exchange with one server. `transport` is "udp", or "tcp" when a truncated UDP
    answer was asked again over TCP."""

    name: str
    rdtype: str
    outcome: Outcome
    server: str
    seconds: float
    transport: str


@dataclass(frozen=True)
class Server:
    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_nameserver(text: str) -> Server:
    """`HOST[:PORT]`: an IPv4 address, an IPv6 address (in brackets when a port follows,
    `[::1]:5353`), or a host name resolved now. Raises ValueError with a readable message."""
    spec = text.strip()
    host, port_text = spec, ""
    if spec.startswith("["):
        host, bracket, rest = spec[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad nameserver {text!r}: expected [IPV6]:PORT")
        port_text = rest[1:] if rest else ""
    elif spec.count(":") == 1:
        host, _, port_text = spec.partition(":")
    if not host:
        raise ValueError(f"bad nameserver {text!r}: no host")
    port = DEFAULT_PORT
    if port_text or spec.endswith(":"):
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad nameserver {text!r}: port must be 1-65535")
        port = int(port_text)
    return Server(_address_of(host, text), port)


def _address_of(host: str, text: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"bad nameserver {text!r}: not an IP address, and it does not resolve") from exc
    return str(found[0][4][0])


def system_nameservers() -> tuple[Server, ...]:
    """The resolvers in /etc/resolv.conf (empty when there is none)."""
    import dns.resolver

    try:
        config = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        return ()
    return tuple(Server(str(ns), config.port) for ns in config.nameservers if isinstance(ns, str))


class Resolver:
    """Asks each question once: answers are cached per (lower-cased name, type), and concurrent
    callers of the same question share one query. `queries` records every exchange sent."""

    def __init__(self, nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT, retries: int = 1):
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.servers: tuple[Server, ...] = (
            tuple(parse_nameserver(ns) for ns in nameservers) if nameservers else system_nameservers()
        )
        self.timeout = timeout
        self.retries = retries
        self.queries: list[QueryRecord] = []
        self._answers: dict[tuple[str, str], Answer] = {}
        self._pending: dict[tuple[str, str], asyncio.Task[Answer]] = {}

    async def query(self, name: str, rdtype: str) -> Answer:
        key = (normalize(name), rdtype.upper())
        cached = self._answers.get(key)
        if cached is not None:
            return cached
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._resolve_and_store(key))
            self._pending[key] = task
        # Shielded: one caller giving up must not cancel the question for the others.
        return await asyncio.shield(task)

    async def _resolve_and_store(self, key: tuple[str, str]) -> Answer:
        try:
            answer = await self._resolve(key[0], key[1], hops=0)
        finally:
            del self._pending[key]
        self._answers[key] = answer
        return answer

    async def _resolve(self, name: str, rdtype: str, hops: int) -> Answer:
        started = time.monotonic()
        wire_name = _wire_name(name)
        if isinstance(wire_name, str):
            return Answer(name, rdtype, Outcome.ERROR, detail=wire_name)
        if not self.servers:
            return Answer(name, rdtype, Outcome.ERROR, detail="no nameservers configured")
        answer: Answer | None = None
        follow: str | None = None
        for server in self.servers:
            answer, follow = await self._ask_server(server, wire_name, name, rdtype)
            if not answer.is_temperror:
                break
        assert answer is not None
        if follow is not None and answer.ok:
            answer = await self._follow(name, rdtype, follow, hops)
        return replace(answer, seconds=time.monotonic() - started)

    async def _follow(self, name: str, rdtype: str, target: str, hops: int) -> Answer:
        """The CNAME chain left the answer: ask for the target ourselves. Cached answers are
        reused, but in-flight ones are not awaited, so two chains pointing at each other
        cannot wait on each other forever."""
        if hops >= MAX_CNAME_HOPS:
            return Answer(name, rdtype, Outcome.ERROR, detail="CNAME chain too long")
        key = (normalize(target), rdtype)
        answer = self._answers.get(key)
        if answer is None:
            answer = await self._resolve(key[0], rdtype, hops + 1)
            self._answers.setdefault(key, answer)
        return replace(answer, name=name)

    async def _ask_server(
        self, server: Server, wire_name: dns.name.Name, name: str, rdtype: str
    ) -> tuple[Answer, str | None]:
        answer = Answer(name, rdtype, Outcome.TIMEOUT, server=str(server))
        for _attempt in range(self.retries + 1):
            started = time.monotonic()
            response, transport, failure = await _exchange(server, wire_name, rdtype, self.timeout)
            seconds = time.monotonic() - started
            if response is None:
                assert failure is not None
                outcome, detail = failure
                answer = Answer(name, rdtype, outcome, server=str(server), detail=detail)
                self.queries.append(QueryRecord(name, rdtype, outcome, str(server), seconds, transport))
                continue  # no answer at all: try this server again
            outcome, records, follow, detail = _interpret(response, wire_name, rdtype)
            self.queries.append(QueryRecord(name, rdtype, outcome, str(server), seconds, transport))
            return Answer(name, rdtype, outcome, records, str(server), detail=detail), follow
        return answer, None


def normalize(name: str) -> str:
    """The cache key form of a name: lower case, without the trailing dot."""
    return name.lower().removesuffix(".")


def _wire_name(name: str) -> dns.name.Name | str:
    """The DNS name for `name`, label by label (no escape processing: SPF names are literal),
    or why DNS cannot carry it."""
    import dns.name

    if not name:
        return "empty name"
    labels = name.split(".")
    if any(not label for label in labels):
        return f"empty label in {name!r}"
    try:
        return dns.name.Name([label.encode("utf-8", "surrogateescape") for label in labels] + [b""])
    except dns.name.LabelTooLong:
        return f"a label of {name!r} is over 63 octets"
    except dns.name.NameTooLong:
        return f"{name!r} is over 255 octets"


async def _exchange(
    server: Server, wire_name: dns.name.Name, rdtype: str, timeout: float
) -> tuple[dns.message.Message | None, str, tuple[Outcome, str | None] | None]:
    """One question to one server within `timeout` seconds: UDP, then TCP if truncated.
    EDNS is not offered, so answers over 512 octets come over TCP as classic DNS does."""
    import dns.asyncquery
    import dns.exception
    import dns.message

    query = dns.message.make_query(wire_name, rdtype)
    transport = "udp"
    deadline = time.monotonic() + timeout
    try:
        async with asyncio.timeout(timeout):
            try:
                response = await dns.asyncquery.udp(
                    query, server.host, timeout, server.port, ignore_unexpected=True,
                    raise_on_truncation=True,
                )
            except dns.message.Truncated:
                transport = "tcp"
                left = max(deadline - time.monotonic(), 0.001)
                response = await dns.asyncquery.tcp(query, server.host, left, server.port)
    except (TimeoutError, dns.exception.Timeout):
        return None, transport, (Outcome.TIMEOUT, None)
    except (OSError, EOFError, dns.exception.DNSException) as exc:
        return None, transport, (Outcome.ERROR, str(exc) or type(exc).__name__)
    return response, transport, None


def _interpret(
    response: dns.message.Message, qname: dns.name.Name, rdtype: str
) -> tuple[Outcome, tuple[RData, ...], str | None, str | None]:
    """(outcome, records, CNAME target to ask next or None, detail) for one response."""
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype

    rcode = response.rcode()
    if rcode == dns.rcode.SERVFAIL:
        return Outcome.SERVFAIL, (), None, None
    if rcode == dns.rcode.REFUSED:
        return Outcome.REFUSED, (), None, None
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return Outcome.ERROR, (), None, f"{dns.rcode.to_text(rcode)} from server"
    wanted = dns.rdatatype.from_text(rdtype)
    name, seen = qname, {qname}
    while True:
        rrset = response.get_rrset(response.answer, name, dns.rdataclass.IN, wanted)
        if rrset is not None and len(rrset):
            return Outcome.OK, tuple(_rdata_value(rdata) for rdata in rrset), None, None
        cname = response.get_rrset(response.answer, name, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None or wanted == dns.rdatatype.CNAME:
            break
        name = cname[0].target
        if name in seen:
            return Outcome.ERROR, (), None, "CNAME loop"
        seen.add(name)
    if rcode == dns.rcode.NXDOMAIN:
        return Outcome.NXDOMAIN, (), None, None
    negative = any(rrset.rdtype == dns.rdatatype.SOA for rrset in response.authority)
    if name != qname and not negative:
        # The chain leaves this server's data (an authoritative server answers only its zones).
        return Outcome.OK, (), _text(name), None
    if not negative and any(rrset.rdtype == dns.rdatatype.NS for rrset in response.authority):
        return Outcome.ERROR, (), None, "referral: the server does not answer for this name (not recursive?)"
    return Outcome.NODATA, (), None, None


def _rdata_value(rdata: object) -> RData:
    import dns.rdtypes.ANY.MX
    import dns.rdtypes.ANY.PTR
    import dns.rdtypes.IN.A
    import dns.rdtypes.IN.AAAA
    import dns.rdtypes.txtbase

    if isinstance(rdata, dns.rdtypes.txtbase.TXTBase):  # TXT, and SPF (type 99)
        # Joined without spaces (RFC 7208 section 3.3); undecodable octets survive as surrogates.
        return b"".join(rdata.strings).decode("utf-8", "surrogateescape")
    if isinstance(rdata, dns.rdtypes.IN.A.A | dns.rdtypes.IN.AAAA.AAAA):
        return str(rdata.address)
    if isinstance(rdata, dns.rdtypes.ANY.MX.MX):
        return MX(int(rdata.preference), _text(rdata.exchange))
    if isinstance(rdata, dns.rdtypes.ANY.PTR.PTR):
        return _text(rdata.target)
    return str(rdata)


def _text(name: dns.name.Name) -> str:
    """A name as plain text, labels verbatim (no DNS escapes), no trailing dot; "." for the root."""
    labels = [label.decode("utf-8", "surrogateescape") for label in name.labels if label]
    return ".".join(labels) or "."
