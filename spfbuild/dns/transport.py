"""One exchange with one server: UDP, then TCP (dnspython's `dns.asyncquery.tcp`) if truncated.

The UDP exchange does what `dns.asyncquery.udp(query, ..., ignore_unexpected=True,
raise_on_truncation=True)` does, on a plain non-blocking socket of its own: dnspython hands back
only parsed messages, and a plain answer is read by `wire.read` instead, from its octets, for
about half the CPU of a bulk audit (see that module for the figure); any other response is
parsed by dnspython (`message`). That module is imported only when a response needs it:
`spfbuild check` of one domain, or a flatten, starts 40 to 100 ms sooner without it. TCP gets
only the time UDP left, so the whole exchange stays within the per-query timeout, and a failed
TCP attempt is still accounted as TCP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass

import dns.exception

from spfbuild.dns import wire
from spfbuild.dns.response import Labels, Response, lower
from spfbuild.dns.values import Outcome, Server

_RD = 0x0100  # the header flags of a query: recursion desired, as dnspython's make_query sets
_IN = 1


@dataclass(frozen=True)
class Exchange:
    """What one exchange gave: a response, or the outcome that stands for having none."""

    transport: str  # "udp", or "tcp" once a truncated UDP answer was asked again
    response: Response | None = None
    failure: Outcome | None = None  # TIMEOUT or ERROR, when there is no response
    detail: str | None = None


async def exchange(qname: Labels, rdtype: int, server: Server, timeout: float) -> Exchange:
    """Ask (`qname`, `rdtype`) of `server` within `timeout` seconds. EDNS is not offered, so
    answers over 512 octets come over TCP as classic DNS does. A response from another address
    is ignored (it may be forged); a malformed one, or one to another question, is an error."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    qid = int.from_bytes(os.urandom(2))
    query = _query(qid, qname, rdtype)
    transport = "udp"
    try:
        async with asyncio.timeout_at(deadline):  # the bound, whatever the socket calls do
            response = await _udp(query, qid, qname, rdtype, server)
            if response is None:  # truncated
                from spfbuild.dns import message

                transport = "tcp"
                response = await message.ask_tcp(query, server, deadline - loop.time(), rdtype)
    except (TimeoutError, dns.exception.Timeout):
        return Exchange(transport, failure=Outcome.TIMEOUT)
    except (OSError, EOFError, dns.exception.DNSException) as exc:
        return Exchange(transport, failure=Outcome.ERROR, detail=str(exc) or type(exc).__name__)
    return Exchange(transport, response)


def _query(qid: int, qname: Labels, rdtype: int) -> bytes:
    """The query dnspython's `make_query` builds: ID `qid`, RD, one question, no EDNS."""
    name = b"".join(bytes((len(label),)) + label for label in qname) + b"\0"
    return struct.pack("!HHHHHH", qid, _RD, 1, 0, 0, 0) + name + struct.pack("!HH", rdtype, _IN)


async def _udp(query: bytes, qid: int, qname: Labels, rdtype: int, server: Server) -> Response | None:
    """The response to `query` over UDP; None when it is truncated."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        await loop.sock_sendto(sock, query, (server.host, server.port))
        while True:
            data, source = await loop.sock_recvfrom(sock, 65535)
            if not _same_source(source, server):
                continue  # ignore_unexpected
            plain = wire.read(data, qid, lower(qname), rdtype)
            if plain is not None:
                return plain
            from spfbuild.dns import message

            return message.parse_udp(data, query, rdtype)


def _same_source(source: tuple[str, int] | tuple[str, int, int, int], server: Server) -> bool:
    if source[1] != server.port:
        return False
    if source[0] == server.host:
        return True
    try:
        return ipaddress.ip_address(source[0]) == ipaddress.ip_address(server.host)
    except ValueError:
        return False
