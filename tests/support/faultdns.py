"""A fault-injecting DNS server on 127.0.0.1 (UDP and TCP on one port), for reliability tests.

It serves a small in-memory zone like an authoritative server (AA answers, NXDOMAIN and NODATA
with an SOA, in-zone CNAME chasing, ``*`` wildcards) and misbehaves per name. A behaviour
applies to questions about its exact name (compared without case):

============== =============================================================================
``timeout``    no answer at all: UDP is dropped, a TCP connection is accepted and left silent
``servfail``   RCODE 2; ``refused``: RCODE 5; ``formerr``: RCODE 1
``truncate``   UDP answers carry the TC bit and no records; TCP answers in full
``oversized``  the answer padded with extra TXT records past 512 octets, sent whole over UDP
               (no TC bit, no EDNS asked: a server ignoring the classic limit)
``huge``       TC over UDP; over TCP the answer padded with 300 TXT records (about 20 KB)
``garbage``    a header, then bytes that are no DNS message (a compression pointer out of range)
``wrong-id``   a correct answer with another message ID
``short``      a 5-octet message: the header is cut short
``cut``        a correct answer cut off in the middle of its records, TC bit clear
``slow-tcp``   TC over UDP; over TCP the answer is dribbled one octet every 0.3 s
``no-chase``   a CNAME at the name is answered alone (the client must ask for its target)
``mixed-case`` owner names in the question and answer come back in altered case
``referral``   no answer: a delegation (NS in authority), as a non-recursive server gives
``mutate``     the correct answer passed through ``server.mutator(octets)`` (fuzzing)
============== =============================================================================

The server runs its own event loop in a daemon thread, so tests can run the CLI as a
subprocess against it. ``received`` lists every (name, type, transport) asked and
``updates`` every RFC 2136 UPDATE message (answered REFUSED).

    with FaultServer(records, {"spf.a.test": "timeout"}) as server:
        subprocess.run([..., "--nameserver", server.address])
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from support.loopback import Listening, listen

__all__ = ["BEHAVIOURS", "FaultServer"]

BEHAVIOURS = frozenset({
    "timeout", "servfail", "refused", "formerr", "truncate", "oversized", "huge", "garbage", "wrong-id",
    "short", "cut", "slow-tcp", "no-chase", "mixed-case", "referral", "mutate",
})
_RCODES = {"servfail": dns.rcode.SERVFAIL, "refused": dns.rcode.REFUSED, "formerr": dns.rcode.FORMERR}
_SOA = "ns.test. hostmaster.test. 1 3600 900 604800 60"
_TTL = 60
_MAX_CHASE = 16
_DRIBBLE_SECONDS = 0.3


def _key(name: str | dns.name.Name) -> str:
    text = name.to_text() if isinstance(name, dns.name.Name) else name
    return text.lower().rstrip(".")


class FaultServer:
    """`records`: (owner, type, rdata) triples in master-file syntax, owners absolute without the
    trailing dot (``*.x.test`` for a wildcard). `behaviours`: name -> behaviour; it may be changed
    while the server runs (e.g. ``server.behaviours.pop(name)`` to heal a name)."""

    def __init__(self, records: Iterable[tuple[str, str, str]], behaviours: Mapping[str, str] | None = None):
        self.zone: dict[str, dict[int, dns.rrset.RRset]] = {}
        for owner, rdtype, rdata in records:
            self.add(owner, rdtype, rdata)
        self.behaviours: dict[str, str] = {}
        for name, behaviour in (behaviours or {}).items():
            self.set(name, behaviour)
        self.received: list[tuple[str, str, str]] = []
        self.updates: list[dns.message.Message] = []
        self.mutator: Callable[[bytes], bytes | None] | None = None
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listening: Listening | None = None
        self._idle: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------------ set-up

    def add(self, owner: str, rdtype: str, rdata: str) -> None:
        rrset = dns.rrset.from_text(owner + ".", _TTL, "IN", rdtype, rdata)
        existing = self.zone.setdefault(_key(owner), {}).get(rrset.rdtype)
        if existing is None:
            self.zone[_key(owner)][rrset.rdtype] = rrset
        else:
            existing.union_update(rrset)  # type: ignore[no-untyped-call]

    def reset(self, owner: str) -> None:
        """Forget every record at `owner` (a wildcard owner too)."""
        self.zone.pop(_key(owner), None)

    def set(self, name: str, behaviour: str) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self.behaviours[_key(name)] = behaviour

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FaultServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shut())
            loop.close()

        self._thread = threading.Thread(target=main, name="faultdns", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def close(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    async def _open(self) -> None:
        self._listening = await listen(lambda data: self._reply(data, "udp"), self._serve_tcp)
        self.port = self._listening.port

    async def _shut(self) -> None:
        for writer in list(self._idle):
            writer.close()
        if self._listening is not None:
            await self._listening.close()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                wire = await reader.readexactly(length)
                behaviour = self._behaviour_of(wire)
                if behaviour == "timeout":
                    self._idle.add(writer)
                    await reader.read()  # silent until the client hangs up
                    return
                reply = self._reply(wire, "tcp")
                if reply is None:
                    return
                framed = struct.pack("!H", len(reply)) + reply
                if behaviour == "slow-tcp":
                    for index in range(len(framed)):
                        writer.write(framed[index : index + 1])
                        await writer.drain()
                        await asyncio.sleep(_DRIBBLE_SECONDS)
                else:
                    writer.write(framed)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._idle.discard(writer)
            writer.close()

    # ------------------------------------------------------------------ answering

    def _behaviour_of(self, wire: bytes) -> str | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        if not query.question:
            return None
        return self.behaviours.get(_key(query.question[0].name))

    def _reply(self, wire: bytes, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        if query.opcode() == dns.opcode.UPDATE:
            self.updates.append(query)
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        if not query.question:
            return None
        question = query.question[0]
        name = _key(question.name)
        self.received.append((name, dns.rdatatype.to_text(question.rdtype), transport))
        behaviour = self.behaviours.get(name)
        if behaviour == "timeout":
            return None
        if behaviour == "garbage":  # a plausible header, then a name whose compression pointer leads nowhere
            return struct.pack("!H", query.id) + b"\x84\x00\x00\x01\x00\x01\x00\x00\x00\x00" + b"\xc0\xff" * 14
        if behaviour == "short":
            return struct.pack("!H", query.id) + b"\x81\x80\x00"
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if behaviour in _RCODES:
            response.set_rcode(_RCODES[behaviour])
            return response.to_wire()
        if behaviour == "referral":
            response.flags &= ~dns.flags.AA
            response.authority.append(dns.rrset.from_text(name + ".", _TTL, "IN", "NS", "ns.elsewhere.example."))
            return response.to_wire()
        if transport == "udp" and behaviour in ("truncate", "huge", "slow-tcp"):
            response.flags |= dns.flags.TC
            return response.to_wire()
        self._answer(response, question.name, question.rdtype, chase=behaviour != "no-chase")
        if behaviour in ("oversized", "huge"):
            self._pad(response, question.name, 12 if behaviour == "oversized" else 300)
        if behaviour == "mixed-case":
            _alter_case(response)
        if behaviour == "wrong-id":
            response.id = (query.id + 1) % 65536
        data = response.to_wire()
        if behaviour == "mutate" and self.mutator is not None:
            return self.mutator(data)
        if behaviour == "cut":
            return data[: max(12, len(data) - 7)]
        return data

    def _answer(self, response: dns.message.Message, qname: dns.name.Name, rdtype: int, *, chase: bool) -> None:
        name, seen = qname, set()
        for _hop in range(_MAX_CHASE):
            node = self._node(name)
            if node is None:
                if name == qname:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                self._soa(response)
                return
            rrset = node.get(rdtype)
            if rrset is not None:
                response.answer.append(_renamed(rrset, name))
                return
            cname = node.get(dns.rdatatype.CNAME)
            if cname is None or rdtype == dns.rdatatype.CNAME:
                self._soa(response)
                return
            response.answer.append(_renamed(cname, name))
            seen.add(_key(name))
            name = cname[0].target
            # An authoritative server chases in-zone targets; here every name is in the zone.
            if not chase or _key(name) in seen or self.behaviours.get(_key(name)) is not None:
                return

    def _node(self, name: dns.name.Name) -> dict[int, dns.rrset.RRset] | None:
        key = _key(name)
        if key in self.zone:
            return self.zone[key]
        if any(owner.endswith("." + key) for owner in self.zone):
            return {}  # an empty non-terminal: the name exists, without records
        labels = key.split(".")
        for index in range(1, len(labels)):
            wildcard = self.zone.get("*." + ".".join(labels[index:]))
            if wildcard is not None:
                return wildcard
        return None

    @staticmethod
    def _soa(response: dns.message.Message) -> None:
        response.authority.append(dns.rrset.from_text("test.", _TTL, "IN", "SOA", _SOA))

    @staticmethod
    def _pad(response: dns.message.Message, qname: dns.name.Name, count: int) -> None:
        filler = dns.rrset.from_text(qname, _TTL, "IN", "TXT", *(f'"filler-{i:03d}-{"x" * 40}"' for i in range(count)))
        for rrset in response.answer:
            if rrset.name == qname and rrset.rdtype == dns.rdatatype.TXT:
                rrset.union_update(filler)  # type: ignore[no-untyped-call]
                return
        response.answer.append(filler)


def _renamed(rrset: dns.rrset.RRset, name: dns.name.Name) -> dns.rrset.RRset:
    """The RRset with `name` as its owner (a wildcard's records answer for the name asked)."""
    out = dns.rrset.RRset(name, rrset.rdclass, rrset.rdtype)
    out.update(rrset)  # type: ignore[no-untyped-call]
    return out


def _alter_case(response: dns.message.Message) -> None:
    def flip(name: dns.name.Name) -> dns.name.Name:
        text = name.to_text()
        return dns.name.from_text("".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text)))

    for section in (response.question, response.answer):
        for index, rrset in enumerate(section):
            altered = dns.rrset.RRset(flip(rrset.name), rrset.rdclass, rrset.rdtype)
            altered.update(rrset)  # type: ignore[no-untyped-call]
            section[index] = altered
