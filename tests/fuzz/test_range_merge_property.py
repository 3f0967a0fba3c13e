"""Merging ranges never changes what decides an address: for every address, the terms that can
decide it, in order (each DNS term it reaches, and the first range that matches it), are the
same before and after. DNS terms stand for everything whose outcome is unknown at build time."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from spfbuild.rangemerge import merge_ranges
from spfbuild.record import IPNetwork, Mechanism, Qualifier, Term

QUALIFIERS = list(Qualifier)
# A small address space, so that random ranges overlap often.
BASE = int(ipaddress.IPv4Address("198.51.100.0"))


def _range(offset: int, prefix: int, qualifier: Qualifier) -> Mechanism:
    network = ipaddress.ip_network((BASE + offset, prefix), strict=False)
    return Mechanism("ip4", qualifier, address=network.network_address, prefix4=prefix)


terms = st.lists(
    st.one_of(
        st.builds(_range, st.integers(0, 255), st.integers(26, 32), st.sampled_from(QUALIFIERS)),
        st.builds(lambda n: Mechanism("include", Qualifier.PASS, domain=f"d{n}.example"), st.integers(0, 3)),
    ),
    max_size=12,
)


def _deciders(record: list[Term], address: ipaddress.IPv4Address) -> list[str]:
    seen: list[str] = []
    for term in record:
        assert isinstance(term, Mechanism)
        network = term.network
        if network is None:
            seen.append(str(term))  # reached: its outcome is DNS's
        elif address in network:
            seen.append(term.qualifier.result)
            break
    return seen


def _build(network: IPNetwork, qualifier: Qualifier, covered: list[Term]) -> Term:
    assert covered
    return Mechanism("ip4", qualifier, address=network.network_address, prefix4=network.prefixlen)


@settings(max_examples=300, deadline=None)
@given(terms)
def test_every_address_meets_the_same_deciders(record: list[Term]) -> None:
    merged = merge_ranges(record, lambda t: t, _build)
    for offset in range(256):
        address = ipaddress.IPv4Address(BASE + offset)
        assert _deciders(merged, address) == _deciders(record, address)
    assert [t for t in merged if t.network is None] == [t for t in record if t.network is None]  # type: ignore[union-attr]


def test_ranges_merge_across_a_disjoint_range_of_another_qualifier_but_never_across_dns() -> None:
    record: list[Term] = [_range(0, 25, Qualifier.PASS), _range(200, 32, Qualifier.FAIL), _range(128, 26, Qualifier.PASS),
                          Mechanism("include", Qualifier.PASS, domain="d.example"), _range(192, 26, Qualifier.PASS)]
    assert [str(t) for t in merge_ranges(record, lambda t: t, _build)] == [
        "ip4:198.51.100.0/25", "ip4:198.51.100.128/26", "-ip4:198.51.100.200/32", "include:d.example",
        "ip4:198.51.100.192/26",
    ]
