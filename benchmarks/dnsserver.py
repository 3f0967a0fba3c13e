"""A latency-injecting authoritative DNS server on loopback, for the benchmarks.

    python benchmarks/dnsserver.py --zones tests/bind/zones --latency 20 --log queries.log

Serves every ``<origin>.zone`` file of each ``--zones`` directory (and each ``--zone-file``,
named ``<origin>.zone``) over UDP and TCP on 127.0.0.1, and delays every response by
``--latency`` milliseconds. Each response is delayed on its own timer, so a thousand queries
sent at once are all answered after one latency, as on a real network, not one after another.

It answers as an authoritative-only server does: the answer with the AA bit, CNAME chains
followed through the zones it has, RFC 4592 wildcards (the `*` below the closest encloser),
NXDOMAIN or NODATA with the zone's SOA, REFUSED outside its zones. UDP answers larger than 512
octets (or the client's EDNS size) come back truncated, so the client retries over TCP, as with
BIND.

Every query received is one line of ``--log``: ``udp|tcp <name> <TYPE>`` (name in lower case,
no trailing dot), written before the response is scheduled. When ready, the server prints
``READY <port>`` on stdout; SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import struct
import sys
from pathlib import Path
from typing import IO

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

ZONE_SUFFIX = ".zone"
MAX_CNAME_HOPS = 8
CACHE_LIMIT = 200_000  # rendered responses kept, keyed by the query's octets after its ID


class Authority:
    """The zones served, and the answer to one query."""

    def __init__(self, zones: list[dns.zone.Zone]):
        self.zones: dict[dns.name.Name, dns.zone.Zone] = {z.origin: z for z in zones if z.origin is not None}
        # Names that exist only as empty non-terminals (an owner below them exists): NODATA, not NXDOMAIN.
        self.interior: dict[dns.name.Name, set[dns.name.Name]] = {}
        for origin, zone in self.zones.items():
            inner: set[dns.name.Name] = set()
            for name in zone.nodes:
                absolute = name if name.is_absolute() else name.derelativize(origin)
                parent = absolute
                while parent != origin and len(parent) > len(origin):
                    parent = parent.parent()
                    inner.add(parent)
            self.interior[origin] = inner

    def zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        while True:
            zone = self.zones.get(name)
            if zone is not None:
                return zone
            if len(name) <= 1:
                return None
            name = name.parent()

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        zone = self.zone_for(question.name)
        if zone is None or question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        name, rdtype = question.name, question.rdtype
        for _hop in range(MAX_CNAME_HOPS + 1):
            node = zone.get_node(name)
            if node is None and name not in self.interior[zone.origin]:  # type: ignore[index]
                node = self.wildcard(zone, name)
            if node is None:
                if name not in self.interior[zone.origin]:  # type: ignore[index]
                    response.set_rcode(dns.rcode.NXDOMAIN)
                self._negative(response, zone)
                return response
            found = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if found is not None and len(found):
                rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdtype)
                rrset.update(found)  # type: ignore[no-untyped-call]
                response.answer.append(rrset)
                return response
            alias = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if alias is None or rdtype == dns.rdatatype.CNAME:
                self._negative(response, zone)
                return response
            rrset = dns.rrset.RRset(name, dns.rdataclass.IN, dns.rdatatype.CNAME)
            rrset.update(alias)  # type: ignore[no-untyped-call]
            response.answer.append(rrset)
            name = alias[0].target
            next_zone = self.zone_for(name)
            if next_zone is None:
                return response  # the chain leaves our zones: the client asks elsewhere
            zone = next_zone
        return response

    def wildcard(self, zone: dns.zone.Zone, name: dns.name.Name) -> dns.zone.Node | None:
        """RFC 4592 section 3.3.1: the `*` node below the closest encloser of a name that does not
        exist (the longest ancestor that does, empty non-terminals included), if there is one."""
        origin = zone.origin
        assert origin is not None
        encloser = name
        while len(encloser) > len(origin):
            encloser = encloser.parent()
            if zone.get_node(encloser) is not None or encloser in self.interior[origin]:
                break
        return zone.get_node(dns.name.Name((b"*", *encloser.labels)))

    @staticmethod
    def _negative(response: dns.message.Message, zone: dns.zone.Zone) -> None:
        assert zone.origin is not None
        soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        if soa is not None:
            rrset = dns.rrset.RRset(zone.origin, dns.rdataclass.IN, dns.rdatatype.SOA)
            rrset.update(soa)  # type: ignore[no-untyped-call]
            response.authority.append(rrset)


def load_zones(directories: list[Path], files: list[Path]) -> list[dns.zone.Zone]:
    paths = [p for d in directories for p in sorted(d.glob(f"*{ZONE_SUFFIX}"))] + list(files)
    zones = []
    for path in paths:
        origin = path.name[: -len(ZONE_SUFFIX)] if path.name.endswith(ZONE_SUFFIX) else path.name
        zones.append(dns.zone.from_file(str(path), origin=origin + ".", relativize=False, check_origin=True))
    return zones


class Server:
    """Answers from `authority`; every response is sent `latency` seconds after its query came."""

    def __init__(self, authority: Authority, latency: float, log: IO[str] | None):
        self.authority = authority
        self.latency = latency
        self.log = log
        self.cache: dict[tuple[bytes, int], bytes] = {}
        self.loop = asyncio.get_running_loop()
        self.counts = {"udp": 0, "tcp": 0}

    def answer(self, data: bytes, transport: str, limit: int | None) -> bytes | None:
        """The response octets for the query `data` (None: not a query worth answering)."""
        if len(data) < 12:
            return None
        self.counts[transport] += 1
        cached = self.cache.get((data[2:], limit or 0))
        if cached is not None:
            self._log(transport, data)
            return data[:2] + cached[2:]
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            self._write(f"{transport} ? ?\n")
            return None
        question = query.question[0] if query.question else None
        if question is not None:
            self._write(f"{transport} {_text(question.name)} {dns.rdatatype.to_text(question.rdtype)}\n")
        response = self.authority.respond(query)
        size = 65535 if limit is None else max(limit, query.payload if query.edns >= 0 else 512)
        try:
            wire = response.to_wire(max_size=size)
        except dns.exception.TooBig:
            response = dns.message.make_response(query)
            response.flags |= dns.flags.TC | dns.flags.AA
            wire = response.to_wire(max_size=size)
        if len(self.cache) < CACHE_LIMIT:
            self.cache[(data[2:], limit or 0)] = wire
        return wire

    def _log(self, transport: str, data: bytes) -> None:
        if self.log is None:
            return
        name, rdtype = _question(data)
        self._write(f"{transport} {name} {rdtype}\n")

    def _write(self, line: str) -> None:
        if self.log is not None:
            self.log.write(line)
            self.log.flush()

    def later(self, send: object, *args: object) -> None:
        if self.latency > 0:
            self.loop.call_later(self.latency, send, *args)  # type: ignore[arg-type]
        else:
            send(*args)  # type: ignore[operator]


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _question(data: bytes) -> tuple[str, str]:
    """The question of a query already seen (it parsed once), read straight from its octets."""
    labels = []
    offset = 12
    while data[offset]:
        length = data[offset]
        labels.append(data[offset + 1 : offset + 1 + length].decode("ascii", "backslashreplace").lower())
        offset += 1 + length
    rdtype = struct.unpack_from("!H", data, offset + 1)[0]
    return ".".join(labels) or ".", dns.rdatatype.to_text(rdtype)


class UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: Server):
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        _large_receive_buffer(transport.get_extra_info("socket"))

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        wire = self.server.answer(data, "udp", 512)
        if wire is not None and self.transport is not None:
            self.server.later(self._send, wire, addr)

    def _send(self, wire: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(wire, addr)


def _large_receive_buffer(sock: socket.socket, size: int = 16 << 20) -> None:
    """Room for bursts of thousands of queries: the default buffer drops datagrams past a few
    hundred, which the clients would see as timeouts that have nothing to do with latency."""
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    for option in (force, socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
            return
        except OSError:
            continue


class TCPProtocol(asyncio.Protocol):
    def __init__(self, server: Server):
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 2:
            length = struct.unpack_from("!H", self.buffer)[0]
            if len(self.buffer) < 2 + length:
                return
            message, self.buffer = self.buffer[2 : 2 + length], self.buffer[2 + length :]
            wire = self.server.answer(message, "tcp", None)
            if wire is not None:
                self.server.later(self._send, struct.pack("!H", len(wire)) + wire)

    def _send(self, framed: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(framed)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(zones: list[dns.zone.Zone], port: int, latency_ms: float, log_path: Path | None,
                ready: IO[str]) -> None:
    log = open(log_path, "a", encoding="utf-8") if log_path is not None else None  # noqa: SIM115
    server = Server(Authority(zones), latency_ms / 1000, log)
    loop = asyncio.get_running_loop()
    for attempt in range(50):  # a free UDP port whose TCP twin is free too
        udp, _ = await loop.create_datagram_endpoint(lambda: UDPProtocol(server), local_addr=("127.0.0.1", port))
        bound = udp.get_extra_info("sockname")[1]
        try:
            tcp = await loop.create_server(lambda: TCPProtocol(server), "127.0.0.1", bound, backlog=4096)
            break
        except OSError:
            udp.close()
            if port or attempt == 49:
                raise
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready.write(f"READY {bound}\n")
    ready.flush()
    await stop.wait()
    udp.close()
    tcp.close()
    if log is not None:
        log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zones", type=Path, action="append", default=[], help="a directory of <origin>.zone files")
    parser.add_argument("--zone-file", type=Path, action="append", default=[], help="one <origin>.zone file")
    parser.add_argument("--latency", type=float, default=20.0, help="milliseconds added to every response")
    parser.add_argument("--port", type=int, default=0, help="UDP and TCP port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--log", type=Path, help="append one line per query received")
    args = parser.parse_args(argv)
    if not args.zones and not args.zone_file:
        parser.error("give --zones DIR or --zone-file FILE")
    zones = load_zones(args.zones, args.zone_file)
    try:
        asyncio.run(serve(zones, args.port, args.latency, args.log, sys.stdout))
    except OSError as exc:
        print(f"dnsserver: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
