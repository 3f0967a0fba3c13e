"""Responses dnspython reads: those the octet reader leaves to it, and every TCP exchange.

Imported only when a response needs it (see `transport`): dnspython's message machinery costs
about 40 ms of start-up, which most runs, answered in plain UDP, never need.
"""

from __future__ import annotations

import dns.asyncquery
import dns.message
import dns.name
import dns.query
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.PTR
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.txtbase

from spfbuild.dns.response import Labels, Response, labels_text, lower
from spfbuild.dns.values import MX, RData, Server, Text


def parse_udp(data: bytes, query: bytes, rdtype: int) -> Response | None:
    """The response in `data` to `query`, for a question of type `rdtype`; None when truncated.
    Raises dnspython's errors for a malformed response, or one to another question."""
    try:
        message = dns.message.from_wire(data, raise_on_truncation=True)
    except dns.message.Truncated:
        return None
    if not dns.message.from_wire(query).is_response(message):
        raise dns.query.BadResponse
    return from_message(message, rdtype)


async def ask_tcp(query: bytes, server: Server, timeout: float, rdtype: int) -> Response:
    """`query` asked of `server` over TCP (`dns.asyncquery.tcp`) within `timeout` seconds."""
    message = await dns.asyncquery.tcp(dns.message.from_wire(query), server.host, timeout, server.port)
    return from_message(message, rdtype)


def from_message(message: dns.message.Message, rdtype: int) -> Response:
    """What `interpret` reads of a dnspython message, for a question of type `rdtype`."""
    records: dict[Labels, tuple[RData, ...]] = {}
    aliases: dict[Labels, Labels] = {}
    for rrset in message.answer:
        if rrset.rdclass != dns.rdataclass.IN or not len(rrset):
            continue
        owner = lower(_labels(rrset.name))
        if rrset.rdtype == rdtype:
            records[owner] = tuple(_value(rdata) for rdata in rrset)
        if rrset.rdtype == dns.rdatatype.CNAME:
            aliases[owner] = _labels(rrset[0].target)
    return Response(message.rcode(), records, aliases, frozenset(rrset.rdtype for rrset in message.authority))


def _labels(name: dns.name.Name) -> Labels:
    return tuple(label for label in name.labels if label)


def _value(rdata: dns.rdata.Rdata) -> RData:
    if isinstance(rdata, dns.rdtypes.txtbase.TXTBase):  # TXT, and SPF (type 99)
        return Text(rdata.strings)
    if isinstance(rdata, dns.rdtypes.IN.A.A | dns.rdtypes.IN.AAAA.AAAA):
        return str(rdata.address)
    if isinstance(rdata, dns.rdtypes.ANY.MX.MX):
        return MX(int(rdata.preference), labels_text(_labels(rdata.exchange)))
    if isinstance(rdata, dns.rdtypes.ANY.PTR.PTR | dns.rdtypes.ANY.CNAME.CNAME):
        return labels_text(_labels(rdata.target))
    return str(rdata)
