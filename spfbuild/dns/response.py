"""A response as the interpreter reads it, and how to make one from a dnspython message.

`Response` keeps only what `interpret` needs to answer one question: the response code, the
answer section's records of the asked type, its CNAMEs, and which types the authority section
holds. Two readers make it: `from_message` here, for any response dnspython parses, and
`wire.read` for plain UDP answers; tests hold them to the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.PTR
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.txtbase

from spfbuild.dns.values import MX, RData

Labels = tuple[bytes, ...]  # a name's labels as DNS carries them, without the root


@dataclass(frozen=True)
class Response:
    rcode: int  # the whole response code, EDNS bits included
    # Class IN records of the asked type in the answer section, by owner (lower-cased labels).
    records: dict[Labels, tuple[RData, ...]] = field(default_factory=dict)
    # Class IN CNAMEs in the answer section: owner (lower-cased) -> target (labels as sent).
    aliases: dict[Labels, Labels] = field(default_factory=dict)
    authority: frozenset[int] = frozenset()  # the record types in the authority section


def lower(labels: Labels) -> Labels:
    """Labels as DNS compares names: ASCII letters without case."""
    return tuple(label.lower() for label in labels)


def labels_text(labels: Labels) -> str:
    """A name as plain text, labels verbatim (no DNS escapes), no trailing dot; "." for the root."""
    return ".".join(label.decode("utf-8", "surrogateescape") for label in labels) or "."


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
        # Joined without spaces (RFC 7208 section 3.3); undecodable octets survive as surrogates.
        return b"".join(rdata.strings).decode("utf-8", "surrogateescape")
    if isinstance(rdata, dns.rdtypes.IN.A.A | dns.rdtypes.IN.AAAA.AAAA):
        return str(rdata.address)
    if isinstance(rdata, dns.rdtypes.ANY.MX.MX):
        return MX(int(rdata.preference), labels_text(_labels(rdata.exchange)))
    if isinstance(rdata, dns.rdtypes.ANY.PTR.PTR):
        return labels_text(_labels(rdata.target))
    return str(rdata)
