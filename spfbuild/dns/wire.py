"""Plain UDP answers read straight from the octets, into the `Response` that `interpret` reads.

Kept for bulk audits, which spend most of their time reading answers: `python
benchmarks/bench_check.py --compare-reader` runs `spfbuild check` with it and, interleaved,
without it (every answer parsed into a dnspython message). 1,000 domains, 4,975 queries at 20 ms:
910 against 538 domains/s, 1.0 against 1.8 s of CPU, the same reports; 10,000 domains on a busier
machine took about twice the CPU without it. It reads only what dnspython reads the same way; for
anything else it returns None and dnspython parses the response (`message.from_message`).
tests/unit/test_dns_wire.py holds the two readers to the same `Response`.
"""

from __future__ import annotations

import struct

import dns.ipv6

from spfbuild.dns.response import Labels, Response, labels_text, lower
from spfbuild.dns.values import MX, RData, Text

# Record types: those read as answers (A, AAAA, TXT, SPF, MX, PTR), and those only skipped over.
_A, _NS, _CNAME, _SOA, _PTR, _MX, _TXT, _AAAA, _SPF = 1, 2, 5, 6, 12, 15, 16, 28, 99
ANSWER_TYPES = frozenset({_A, _PTR, _MX, _TXT, _AAAA, _SPF})
_IN = 1
Raw = object  # one record's data as `_rdata` reads it, before `_value` makes it a value


def read(data: bytes, qid: int, qname: Labels, rdtype: int) -> Response | None:
    """The `Response` in `data`; or None unless `data` is a plain response to the query (ID
    `qid`, lower-cased name `qname`, type `rdtype`) that dnspython reads without complaint: QR
    set, TC clear, one matching question, no EDNS or TSIG, only IN records of the types read
    here, names and record data well formed, nothing left over, no duplicate records."""
    if rdtype not in ANSWER_TYPES:
        return None
    try:
        ident, flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!HHHHHH", data)
        if ident != qid or flags & 0xFA00 != 0x8000 or qdcount != 1:  # QR; opcode QUERY; TC clear
            return None
        name, offset = _read_name(data, 12)
        if name is None or lower(name) != qname or struct.unpack_from("!HH", data, offset) != (rdtype, _IN):
            return None
        offset += 4
        found: dict[Labels, list[Raw]] = {}  # the asked type's records, by lower-cased owner
        aliases: dict[Labels, Labels] = {}
        authority: set[int] = set()
        for section, count in ((0, ancount), (1, nscount), (2, arcount)):
            for _ in range(count):
                owner, offset = _read_name(data, offset)
                if owner is None:
                    return None
                rtype, rclass, _ttl, rdlength = struct.unpack_from("!HHIH", data, offset)
                start = offset + 10
                offset = start + rdlength
                if offset > len(data) or rclass != _IN:  # record data of other classes reads otherwise
                    return None
                value = _rdata(data, start, offset, rtype)
                if value is None:
                    return None
                if section == 1:
                    authority.add(rtype)
                elif section == 0 and rtype == _CNAME:
                    assert isinstance(value, tuple)
                    aliases[lower(owner)] = value  # a singleton type: dnspython keeps the last one
                elif section == 0 and rtype == rdtype:
                    same = found.setdefault(lower(owner), [])
                    if _digest(value) in map(_digest, same):
                        return None  # dnspython merges identical records: leave that to it
                    same.append(value)
        if offset != len(data):
            return None
    except (struct.error, IndexError):
        return None
    records = {owner: tuple(_value(raw, rdtype) for raw in raws) for owner, raws in found.items()}
    return Response(flags & 0xF, records, aliases, frozenset(authority))


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


def _rdata(data: bytes, start: int, end: int, rtype: int) -> Raw | None:
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


def _digest(value: Raw) -> Raw:
    """What dnspython compares records by: names without case."""
    if isinstance(value, tuple) and value and isinstance(value[0], int):
        return value[0], lower(value[1])
    if isinstance(value, tuple) and value and value[0] != "txt":
        return lower(value)
    return value


def _value(value: Raw, rtype: int) -> RData:
    """A record as `message.from_message` gives it."""
    if rtype == _A:
        assert isinstance(value, bytes)
        return ".".join(str(octet) for octet in value)
    if rtype == _AAAA:
        assert isinstance(value, bytes)
        return dns.ipv6.inet_ntoa(value)
    if rtype in (_TXT, _SPF):
        assert isinstance(value, tuple)
        return Text(value[1:])
    assert isinstance(value, tuple)
    if rtype == _MX:
        return MX(value[0], labels_text(value[1]))
    return labels_text(value)
