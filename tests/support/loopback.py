"""UDP and TCP on one loopback port, the way a DNS server listens: the socket part that the test
DNS servers share (the scripted one of the resolver tests and the fault-injecting one)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

UdpHandler = Callable[[bytes], bytes | None]  # a datagram in, the reply (or None: no reply)
TcpHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

_ATTEMPTS = 20


@dataclass
class Listening:
    udp: asyncio.DatagramTransport
    tcp: asyncio.Server
    port: int

    async def close(self) -> None:
        self.udp.close()
        self.tcp.close()
        await self.tcp.wait_closed()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, handle: UdpHandler):
        self.handle = handle
        self.transport: Any = None  # the loop's datagram transport (not always a DatagramTransport subclass)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        reply = self.handle(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def listen(on_datagram: UdpHandler, on_connection: TcpHandler) -> Listening:
    """Listen on a free port of 127.0.0.1 for both transports. The UDP port is taken first; its
    TCP twin may (rarely) be in use by another process: then another port is tried."""
    loop = asyncio.get_running_loop()
    for _attempt in range(_ATTEMPTS):
        udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(on_datagram), local_addr=("127.0.0.1", 0))
        port = udp.get_extra_info("sockname")[1]
        try:
            tcp = await asyncio.start_server(on_connection, "127.0.0.1", port)
        except OSError:
            udp.close()
            continue
        return Listening(udp, tcp, port)
    raise OSError("no free UDP and TCP port pair on 127.0.0.1")
