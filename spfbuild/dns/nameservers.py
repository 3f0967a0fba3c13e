"""Which servers to ask: `--nameserver HOST[:PORT]` strings, or the system's resolvers."""

from __future__ import annotations

import ipaddress
import socket

from spfbuild.dns.values import DEFAULT_PORT, Server


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
    import dns.resolver  # here: most runs name their servers, and it costs tens of milliseconds

    try:
        config = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        return ()
    return tuple(Server(str(ns), config.port) for ns in config.nameservers if isinstance(ns, str))
