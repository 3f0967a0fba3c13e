"""spfbuild.dns reads plain UDP answers straight from the octets (`wire.read`): for every response
it reads, the `Response` it makes must be exactly the one made from dnspython's parse of the same
octets (`from_message`), so the one interpreter sees the same thing either way; anything it does
not read must be left to dnspython."""

from __future__ import annotations

import random

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from spfbuild.dns.interpret import interpret
from spfbuild.dns.message import from_message
from spfbuild.dns.response import Labels, Response
from spfbuild.dns.values import string_sizes
from spfbuild.dns.wire import read

QNAMES = ["example.com", "_spf.Example.COM", "a.b.c.d.example.net", "xn--caf-dma.example"]
TYPES = ["TXT", "A", "AAAA", "MX", "PTR", "SPF"]
RDATA = {
    "TXT": ['"v=spf1 -all"', '"v=spf1 ip4:192.0.2.0/24" " -all"', '"caf\\233"', '"a" "b" "c"', '""'],
    "SPF": ['"v=spf1 mx -all"'],
    "A": ["192.0.2.1", "198.51.100.7", "0.0.0.0"],
    "AAAA": ["2001:db8::1", "::ffff:192.0.2.1", "2001:db8:0:1:1:1:1:1", "::"],
    "MX": ["10 mail.example.com.", "0 .", "20 MX.Example.NET."],
    "PTR": ["host.example.net.", "Other.Example.org."],
    "CNAME": ["target.example.net.", "Alias.example.com."],
    "NS": ["ns1.example.com."],
}


def build(rng: random.Random) -> tuple[dns.message.Message, bytes, str]:
    qname = rng.choice(QNAMES)
    rdtype = rng.choice(TYPES)
    query = dns.message.make_query(qname, rdtype)
    response = dns.message.make_response(query)
    if rng.random() < 0.5:
        response.flags |= dns.flags.AA
    response.set_rcode(rng.choice([dns.rcode.NOERROR] * 6 + [dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL,
                                                               dns.rcode.REFUSED, dns.rcode.FORMERR,
                                                               dns.rcode.NOTIMP, dns.rcode.YXDOMAIN]))
    owner = qname if rng.random() < 0.8 else qname.swapcase()
    for _ in range(rng.choice([0, 1, 1, 2])):  # a CNAME chain, perhaps looping back
        target = rng.choice(RDATA["CNAME"] + [owner + "."])
        response.answer.append(dns.rrset.from_text(owner + ".", 300, "IN", "CNAME", target))
        owner = target.rstrip(".")
    kind = rng.choice([rdtype, rdtype, rdtype, "TXT", "A", "NS"])
    if rng.random() < 0.8:
        texts = rng.sample(RDATA[kind], rng.randint(1, len(RDATA[kind])))
        if rng.random() < 0.1:
            texts.append(texts[0])  # a duplicate record
        rdclass = "CH" if kind not in ("A", "AAAA") and rng.random() < 0.25 else "IN"  # CH: not an answer
        response.answer.append(dns.rrset.from_text(owner + ".", 300, rdclass, kind, *texts))
    roll = rng.random()
    if roll < 0.4:
        response.authority.append(dns.rrset.from_text("example.com.", 300, "IN", "SOA", "ns. host. 1 2 3 4 5"))
    elif roll < 0.55:
        response.authority.append(dns.rrset.from_text("example.com.", 300, "IN", "NS", "ns1.example.com."))
    if rng.random() < 0.2:
        response.additional.append(dns.rrset.from_text("ns1.example.com.", 300, "IN", "A", "192.0.2.53"))
    return query, response.to_wire(), rdtype


def labels(query: dns.message.Message) -> Labels:
    return tuple(label.lower() for label in query.question[0].name.labels[:-1])


def code(rdtype: str) -> int:
    return int(dns.rdatatype.from_text(rdtype))


def sizes(response: Response) -> list[tuple[int, ...] | None]:
    return [string_sizes(value) for values in response.records.values() for value in values
            if isinstance(value, str)]


def test_answers_read_from_the_octets_are_what_dnspython_gives() -> None:
    rng = random.Random(7208)
    done = 0
    for _ in range(3000):
        query, wire, rdtype = build(rng)
        fast = read(wire, query.id, labels(query), code(rdtype))
        if fast is None:
            continue
        done += 1
        expected = from_message(dns.message.from_wire(wire), code(rdtype))
        assert fast == expected, (dns.message.from_wire(wire).to_text(), rdtype)
        assert sizes(fast) == sizes(expected)  # the strings as published, which `check` reports
        assert interpret(fast, labels(query), code(rdtype)) == interpret(expected, labels(query), code(rdtype))
    assert done > 2000  # the fast path is the usual path


@pytest.mark.parametrize("damage", ["id", "qr", "tc", "question", "type", "trailing", "cut", "short", "opt"])
def test_anything_unusual_is_left_to_dnspython(damage: str) -> None:
    query = dns.message.make_query("example.com", "TXT")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text("example.com.", 300, "IN", "TXT", '"v=spf1 -all"'))
    if damage == "opt":
        response.use_edns(0)
    wire = bytearray(response.to_wire())
    qid = query.id
    if damage == "id":
        qid ^= 1
    elif damage == "qr":
        wire[2] &= 0x7F
    elif damage == "tc":
        wire[2] |= 0x02
    elif damage == "question":
        wire[13] ^= 0x20 ^ 0x01  # another name, not another case
    elif damage == "type":
        wire[12 + len(b"\x07example\x03com\x00") + 1] = 1
    elif damage == "trailing":
        wire += b"\x00"
    elif damage == "cut":
        del wire[-3:]
    elif damage == "short":
        del wire[8:]
    assert read(bytes(wire), qid, (b"example", b"com"), 16) is None
    if damage != "opt":
        assert read(response.to_wire(), query.id, (b"example", b"com"), 16) is not None


def test_compression_pointers_must_point_backwards() -> None:
    query = dns.message.make_query("example.com", "A")
    header = query.id.to_bytes(2, "big") + bytes.fromhex("8180 0001 0001 0000 0000")
    question = b"\x07example\x03com\x00\x00\x01\x00\x01"
    good = header + question + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x01"
    assert read(good, query.id, (b"example", b"com"), 1) == from_message(dns.message.from_wire(good), 1)
    forward = header + question + b"\xc0\x30\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x01"
    assert read(forward, query.id, (b"example", b"com"), 1) is None
    with pytest.raises(dns.name.BadPointer):
        dns.message.from_wire(forward)


def test_a_cname_question_is_left_to_dnspython_and_answered_by_the_cname_target() -> None:
    query = dns.message.make_query("k1._domainkey.example.com", "CNAME")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text("k1._domainkey.example.com.", 300, "IN", "CNAME", "DKIM.mcsv.net."))
    qname = labels(query)
    assert read(response.to_wire(), query.id, qname, code("CNAME")) is None
    expected = from_message(dns.message.from_wire(response.to_wire()), code("CNAME"))
    assert interpret(expected, qname, code("CNAME")).records == ("DKIM.mcsv.net",)  # as PTR names: no final dot


def test_a_txt_record_keeps_the_sizes_of_the_strings_it_was_published_in() -> None:
    query = dns.message.make_query("example.com", "TXT")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text("example.com.", 300, "IN", "TXT", '"v=spf1 ip4:192.0.2.0/24" " -all"'))
    fast = read(response.to_wire(), query.id, labels(query), code("TXT"))
    assert fast is not None
    (text,) = fast.records[labels(query)]
    assert text == "v=spf1 ip4:192.0.2.0/24 -all"
    assert string_sizes(text) == (23, 5)
