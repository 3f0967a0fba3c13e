"""An asynchronous DNS client for SPF work, on dnspython.

Queries go straight to the configured servers (which may be authoritative-only), or to the
system's resolvers from /etc/resolv.conf. Every answer is a value, never an exception: SPF
evaluation must tell NXDOMAIN from NODATA (void lookups) and errors from absence (temperror).

dnspython is imported only inside this module, and lazily, so the offline commands never load
the DNS stack.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from spfbuild.limits import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    import dns.message
    import dns.name

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
Labels = tuple[bytes, ...]  # a name's labels as DNS carries them, without the root
# (outcome, records, CNAME target to ask next or None, detail): what `_interpret` makes of a response.
Interpreted = tuple[Outcome, tuple[RData, ...], str | None, str | None]


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

    @functools.cached_property  # cached: evaluators read the same answers per address
    def strings(self) -> tuple[str, ...]:
        """TXT strings, addresses or PTR names (MX records are skipped)."""
        return tuple(r for r in self.records if isinstance(r, str))

    @functools.cached_property
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
        # Shielded: one caller giving up must not cancel the question for the others.
        return await asyncio.shield(self._pending.get(key) or self._start(key))

    def prefetch(self, name: str, rdtype: str) -> None:
        """Start asking, without waiting: the question goes out at the event loop's next turn,
        and `query` then finds its answer cached or on its way."""
        key = (normalize(name), rdtype.upper())
        if key not in self._answers and key not in self._pending:
            self._start(key)

    def _start(self, key: tuple[str, str]) -> asyncio.Task[Answer]:
        task = self._pending[key] = asyncio.create_task(self._resolve_and_store(key))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())  # a prefetch nobody awaits
        return task

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
        self, server: Server, wire_name: Labels, name: str, rdtype: str
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
            interpreted = response if isinstance(response, tuple) else _interpret(response, _name(wire_name), rdtype)
            outcome, records, follow, detail = interpreted
            self.queries.append(QueryRecord(name, rdtype, outcome, str(server), seconds, transport))
            return Answer(name, rdtype, outcome, records, str(server), detail=detail), follow
        return answer, None


def normalize(name: str) -> str:
    """The cache key form of a name: lower case, without the trailing dot."""
    return name.lower().removesuffix(".")


def _wire_name(name: str) -> Labels | str:
    """The labels of `name` as DNS carries them (no escape processing: SPF names are literal),
    or why DNS cannot carry it; checked as dnspython checks names, without importing it (its
    name module alone costs tens of milliseconds of start-up)."""
    if not name:
        return "empty name"
    labels = name.split(".")
    if any(not label for label in labels):
        return f"empty label in {name!r}"
    encoded = tuple(label.encode("utf-8", "surrogateescape") for label in labels)
    if any(len(label) > 63 for label in encoded):
        return f"a label of {name!r} is over 63 octets"
    if sum(len(label) + 1 for label in encoded) + 1 > 255:
        return f"{name!r} is over 255 octets"
    return encoded


def _name(labels: Labels) -> dns.name.Name:
    """The dnspython name, for the paths that still go through dnspython."""
    import dns.name

    return dns.name.Name([*labels, b""])


async def _exchange(
    server: Server, wire_name: Labels, rdtype: str, timeout: float
) -> tuple[dns.message.Message | Interpreted | None, str, tuple[Outcome, str | None] | None]:
    """One question to one server within `timeout` seconds: UDP, then TCP if truncated.
    EDNS is not offered, so answers over 512 octets come over TCP as classic DNS does.

    The UDP exchange is dnspython's (`dns.asyncquery.udp` with `ignore_unexpected` and
    `raise_on_truncation`) done by hand on a plain non-blocking socket, and a well-formed
    response is read by `_read_response` without building a dnspython message: bulk audits
    spend most of their time here. Anything else goes through dnspython as before."""
    import dns.exception

    code = _TYPE_CODES.get(rdtype)
    transport = "udp"
    deadline = time.monotonic() + timeout
    try:
        async with asyncio.timeout(timeout):
            try:
                if code is None:
                    return await _dnspython_udp(server, wire_name, rdtype, timeout), transport, None
                return await _udp(server, wire_name, rdtype, code), transport, None
            except _Truncated:
                import dns.asyncquery
                import dns.message

                transport = "tcp"
                left = max(deadline - time.monotonic(), 0.001)
                query = dns.message.make_query(_name(wire_name), rdtype)
                response = await dns.asyncquery.tcp(query, server.host, left, server.port)
    except (TimeoutError, dns.exception.Timeout):
        return None, transport, (Outcome.TIMEOUT, None)
    except (OSError, EOFError, dns.exception.DNSException) as exc:
        return None, transport, (Outcome.ERROR, str(exc) or type(exc).__name__)
    return response, transport, None


class _Truncated(Exception):
    """The UDP answer has the TC bit: ask again over TCP."""


async def _dnspython_udp(server: Server, wire_name: Labels, rdtype: str, timeout: float) -> dns.message.Message:
    import dns.asyncquery
    import dns.message

    query = dns.message.make_query(_name(wire_name), rdtype)
    try:
        return await dns.asyncquery.udp(
            query, server.host, timeout, server.port, ignore_unexpected=True, raise_on_truncation=True,
        )
    except dns.message.Truncated:
        raise _Truncated from None



# The question types read without dnspython: those whose records `_rdata_value` turns into values.
_TYPE_CODES = {"A": 1, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SPF": 99}
_A, _NS, _CNAME, _SOA, _PTR, _MX, _TXT, _AAAA, _SPF = 1, 2, 5, 6, 12, 15, 16, 28, 99


async def _udp(server: Server, wire_name: Labels, rdtype: str, code: int) -> Interpreted:
    """`dns.asyncquery.udp(query, ..., ignore_unexpected=True, raise_on_truncation=True)`, then
    `_interpret`, for the query dnspython's `make_query` builds: a random ID, RD, one question."""
    loop = asyncio.get_running_loop()
    qid = int.from_bytes(os.urandom(2))  # as secrets.randbits(16), without importing hashlib and random
    qname = b"".join(bytes((len(label),)) + label for label in wire_name) + b"\0"
    wire = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", code, 1)
    family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        await loop.sock_sendto(sock, wire, (server.host, server.port))
        while True:
            data, source = await loop.sock_recvfrom(sock, 65535)
            if not _same_source(source, server):
                continue  # ignore_unexpected: not from the server asked
            fast = _read_response(data, qid, _lower(wire_name), code)
            if fast is not None:
                return fast
            # Anything but a plain, well-formed answer is read by dnspython, exactly as before.
            import dns.message

            try:
                response = dns.message.from_wire(data, raise_on_truncation=True)
            except dns.message.Truncated:
                raise _Truncated from None
            if not dns.message.from_wire(wire).is_response(response):
                import dns.query

                raise dns.query.BadResponse
            return _interpret(response, _name(wire_name), rdtype)


def _same_source(source: tuple[str, int] | tuple[str, int, int, int], server: Server) -> bool:
    if source[1] != server.port:
        return False
    if source[0] == server.host:
        return True
    try:
        return ipaddress.ip_address(source[0]) == ipaddress.ip_address(server.host)
    except ValueError:
        return False


def _lower(labels: Labels) -> Labels:
    """Labels as dnspython compares names: ASCII letters without case."""
    return tuple(label.lower() for label in labels)


def _read_response(data: bytes, qid: int, qname: Labels, code: int) -> Interpreted | None:
    """What `_interpret` makes of `data`, read straight from the octets; or None unless `data` is
    a plain response to the query (ID `qid`, lower-cased name `qname`, type `code`) that dnspython
    reads without complaint: QR set, TC clear, one matching question, no EDNS or TSIG, only IN
    records of the types read here, names and record data well formed, nothing left over, no
    duplicate records."""
    try:
        ident, flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!HHHHHH", data)
        if ident != qid or flags & 0xFA00 != 0x8000 or qdcount != 1:  # QR; opcode QUERY; TC clear
            return None
        name, offset = _read_name(data, 12)
        if name is None or _lower(name) != qname or struct.unpack_from("!HH", data, offset) != (code, 1):
            return None
        offset += 4
        answer: dict[tuple[Labels, int], list[object]] = {}
        authority: set[int] = set()
        for section, count in ((0, ancount), (1, nscount), (2, arcount)):
            for _ in range(count):
                owner, offset = _read_name(data, offset)
                if owner is None:
                    return None
                rtype, rclass, _ttl, rdlength = struct.unpack_from("!HHIH", data, offset)
                start = offset + 10
                offset = start + rdlength
                if offset > len(data) or rclass != 1:  # record data of other classes reads otherwise
                    return None
                value = _rdata(data, start, offset, rtype)
                if value is None:
                    return None
                if section == 1:
                    authority.add(rtype)
                elif section == 0:
                    found = answer.setdefault((_lower(owner), rtype), [])
                    if rtype in (_CNAME, _SOA):
                        found[:] = [value]  # a singleton type: dnspython keeps the last one
                    elif _digest(value) in map(_digest, found):
                        return None  # dnspython merges identical records: leave that to it
                    else:
                        found.append(value)
        if offset != len(data):
            return None
    except (struct.error, IndexError):
        return None
    return _interpret_records(flags & 0xF, answer, authority, qname, code)


def _read_name(data: bytes, offset: int) -> tuple[Labels | None, int]:
    """The labels of the (possibly compressed) name at `offset` and the offset after it; None
    for anything dnspython refuses: a pointer not strictly backwards, a reserved label type, a
    name over 255 octets."""
    labels: list[bytes] = []
    after = -1
    bound = offset  # as dnspython: each pointer must go before the last place jumped to
    size = 1
    while True:
        length = data[offset]
        if length == 0:
            return tuple(labels), (offset + 1 if after < 0 else after)
        if length >= 0xC0:
            pointer = ((length & 0x3F) << 8) | data[offset + 1]
            if after < 0:
                after = offset + 2
            if pointer >= bound:
                return None, 0
            bound = offset = pointer
            continue
        if length > 63:
            return None, 0
        label = data[offset + 1 : offset + 1 + length]
        size += length + 1
        if len(label) != length or size > 255:
            return None, 0
        labels.append(label)
        offset += 1 + length


def _rdata(data: bytes, start: int, end: int, rtype: int) -> object | None:
    """One record's data: the address octets (A, AAAA), the strings (TXT, SPF), the labels of the
    name (NS, CNAME, PTR), (preference, labels) for MX, () for SOA; None when dnspython refuses
    it, or for a type not read here."""
    if rtype == _A:
        return data[start:end] if end - start == 4 else None
    if rtype == _AAAA:
        return data[start:end] if end - start == 16 else None
    if rtype in (_TXT, _SPF):
        strings: list[bytes] = []
        offset = start
        while offset < end:
            length = data[offset]
            if offset + 1 + length > end:
                return None
            strings.append(data[offset + 1 : offset + 1 + length])
            offset += 1 + length
        return ("txt", *strings) if strings else None
    if rtype in (_NS, _CNAME, _PTR):
        name, after = _read_name(data, start)
        return name if name is not None and after == end else None
    if rtype == _MX:
        if end - start < 3:
            return None
        name, after = _read_name(data, start + 2)
        return (int.from_bytes(data[start : start + 2], "big"), name) if name is not None and after == end else None
    if rtype == _SOA:
        mname, after = _read_name(data, start)
        rname, after = _read_name(data, after) if mname is not None else (None, 0)
        return () if rname is not None and after + 20 == end else None
    return None


def _digest(value: object) -> object:
    """What dnspython compares records by: names without case."""
    if isinstance(value, tuple) and value and isinstance(value[0], int):
        return value[0], _lower(value[1])
    if isinstance(value, tuple) and value and value[0] != "txt":
        return _lower(value)
    return value


def _value(value: object, rtype: int) -> RData:
    """A record as `_rdata_value` gives it."""
    if rtype == _A:
        assert isinstance(value, bytes)
        return ".".join(str(octet) for octet in value)
    if rtype == _AAAA:
        import dns.ipv6

        assert isinstance(value, bytes)
        return dns.ipv6.inet_ntoa(value)
    if rtype in (_TXT, _SPF):
        assert isinstance(value, tuple)
        return b"".join(value[1:]).decode("utf-8", "surrogateescape")
    if rtype == _MX:
        assert isinstance(value, tuple)
        return MX(value[0], _labels_text(value[1]))
    assert isinstance(value, tuple)
    return _labels_text(value)


def _labels_text(labels: Labels) -> str:
    """As `_text`: labels verbatim, joined by dots; "." for the root."""
    return ".".join(label.decode("utf-8", "surrogateescape") for label in labels) or "."


def _interpret_records(
    rcode: int, answer: dict[tuple[Labels, int], list[object]], authority: set[int], qname: Labels, code: int
) -> Interpreted:
    """`_interpret` on the records `_read_response` read."""
    if rcode == 2:
        return Outcome.SERVFAIL, (), None, None
    if rcode == 5:
        return Outcome.REFUSED, (), None, None
    if rcode not in (0, 3):
        import dns.rcode

        return Outcome.ERROR, (), None, f"{dns.rcode.to_text(dns.rcode.Rcode(rcode))} from server"
    name, seen = qname, {qname}
    target: Labels | None = None
    while True:
        records = answer.get((name, code))
        if records:
            return Outcome.OK, tuple(_value(r, code) for r in records), None, None
        alias = answer.get((name, _CNAME))
        if alias is None:
            break
        target = alias[0]  # type: ignore[assignment]
        assert target is not None
        name = _lower(target)
        if name in seen:
            return Outcome.ERROR, (), None, "CNAME loop"
        seen.add(name)
    if rcode == 3:
        return Outcome.NXDOMAIN, (), None, None
    negative = _SOA in authority
    if target is not None and not negative:
        return Outcome.OK, (), _labels_text(target), None
    if not negative and _NS in authority:
        return Outcome.ERROR, (), None, "referral: the server does not answer for this name (not recursive?)"
    return Outcome.NODATA, (), None, None


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
