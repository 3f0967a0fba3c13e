"""Compiling per-address values into TXT records at octet and nibble boundaries, and answering
client names from them with RFC 4592 wildcard semantics."""

from __future__ import annotations

import bisect
import ipaddress
import random

import pytest

from spfbuild.compiled.blocks import IPV4, IPV6, Family, Interval, compile_family
from spfbuild.compiled.zone import ServedZone
from spfbuild.dns import Outcome

APEX = "_spf-m-0000000000.example.com"


def client_name(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """What `%{ir}.%{v}` expands to for `ip` (RFC 7208 section 7.3)."""
    if ip.version == 4:
        return ".".join(reversed(str(ip).split("."))) + ".in-addr"
    return ".".join(reversed(ip.exploded.replace(":", ""))) + ".ip6"


def served(family: Family, intervals: list[Interval], default: str) -> ServedZone:
    blocks = compile_family(family, intervals, default)
    return ServedZone(APEX, {f"{b.owner}.{APEX}": b.value for b in blocks})


def value_at(zone: ServedZone, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    answer = zone.answer(f"{client_name(ip)}.{APEX}")
    assert answer.outcome is Outcome.OK, (ip, answer)
    (value,) = answer.records
    assert isinstance(value, str)
    return value


def ip4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def test_a_block_on_a_boundary_is_one_wildcard() -> None:
    blocks = compile_family(IPV4, [(ip4("10.1.2.0"), ip4("10.1.2.255"), "P")], "D")
    assert [(b.owner, b.value) for b in blocks] == [
        ("*.in-addr", "D"), ("*.10.in-addr", "D"), ("*.1.10.in-addr", "D"), ("*.2.1.10.in-addr", "P"),
    ]


def test_a_block_off_a_boundary_is_cut_into_the_next_boundary_blocks() -> None:
    # A /20 is sixteen /24 wildcards; a /30 four exact names.
    wide = compile_family(IPV4, [(ip4("10.1.16.0"), ip4("10.1.31.255"), "P")], "D")
    assert sum(1 for b in wide if b.value == "P") == 16
    narrow = compile_family(IPV4, [(ip4("10.1.2.4"), ip4("10.1.2.7"), "P")], "D")
    assert sorted(b.owner for b in narrow if b.value == "P") == [f"{n}.2.1.10.in-addr" for n in (4, 5, 6, 7)]


def test_the_most_specific_block_wins_and_the_rest_of_a_mixed_node_gets_its_majority() -> None:
    intervals = [(ip4("10.0.0.0"), ip4("10.1.2.2"), "P"), (ip4("10.1.2.3"), ip4("10.1.2.3"), "F"),
                 (ip4("10.1.2.4"), ip4("10.255.255.255"), "P")]
    blocks = compile_family(IPV4, intervals, "D")
    assert [(b.owner, b.value) for b in blocks] == [
        ("*.in-addr", "D"), ("*.10.in-addr", "P"), ("*.1.10.in-addr", "P"), ("*.2.1.10.in-addr", "P"),
        ("3.2.1.10.in-addr", "F"),
    ]


def test_every_name_of_a_family_without_ranges_has_the_default() -> None:
    for family in (IPV4, IPV6):
        zone = served(family, [], "D")
        assert len(zone.records) == 1
        ip = ipaddress.IPv4Address("192.0.2.1") if family is IPV4 else ipaddress.IPv6Address("2001:db8::1")
        assert value_at(zone, ip) == "D"


@pytest.mark.parametrize("family", [IPV4, IPV6], ids=["ipv4", "ipv6"])
def test_every_address_answers_the_value_of_its_interval(family: Family) -> None:
    rng = random.Random(16 + family.version)
    top = (1 << family.bits) - 1
    for _ in range(40):
        cuts = sorted({rng.randrange(0, top) for _ in range(rng.randrange(1, 12))}
                      | {rng.randrange(0, 1 << (family.bits - 8)) << 8 for _ in range(3)})
        intervals: list[Interval] = []
        for first, nxt in zip(cuts, [*cuts[1:], top + 1], strict=True):
            if rng.random() < 0.6:
                intervals.append((first, nxt - 1, rng.choice("PFSN")))
        zone = served(family, intervals, "D")
        starts = [i[0] for i in intervals]
        probes = {0, top} | {p for i in intervals for p in (i[0], i[1], max(0, i[0] - 1), min(top, i[1] + 1))}
        probes |= {rng.randrange(0, top) for _ in range(50)}
        for probe in probes:
            k = bisect.bisect_right(starts, probe) - 1
            want = intervals[k][2] if k >= 0 and intervals[k][1] >= probe else "D"
            ip = ipaddress.IPv4Address(probe) if family is IPV4 else ipaddress.IPv6Address(probe)
            assert value_at(zone, ip) == want, (intervals, ip)


def test_an_existing_name_answers_itself_and_an_empty_non_terminal_has_no_data() -> None:
    zone = ServedZone("z.test", {"a.b.z.test": "exact", "*.z.test": "wild"})
    assert zone.answer("a.b.z.test").records == ("exact",)
    assert zone.answer("b.z.test").outcome is Outcome.NODATA  # exists: the wildcard does not apply
    assert zone.answer("c.z.test").records == ("wild",)


def test_a_wildcard_applies_only_at_the_closest_encloser() -> None:
    # RFC 4592 section 2.2.1: below an existing node without a wildcard, the name does not exist,
    # whatever wildcard higher up says.
    zone = ServedZone("z.test", {"a.b.z.test": "exact", "*.z.test": "wild"})
    assert zone.answer("x.b.z.test").outcome is Outcome.NXDOMAIN
    assert zone.answer("x.y.z.test").records == ("wild",)  # closest encloser z.test: its wildcard


def test_a_wildcard_does_not_answer_for_its_own_parent() -> None:
    zone = ServedZone("z.test", {"*.b.z.test": "wild"})
    assert zone.answer("b.z.test").outcome is Outcome.NODATA
    assert zone.answer("deep.er.b.z.test").records == ("wild",)
