"""partition.classes works on integer intervals: it must give exactly what netaddr's own set
operations give, first match winning."""

from __future__ import annotations

import random

import netaddr

from spfbuild.intervals import AddressSet, span
from spfbuild.partition import EMPTY, FULL, Claim, Origin, _overlapping, classes

NETADDR_FULL = netaddr.IPSet(["0.0.0.0/0", "::/0"])


def as_netaddr(addresses: AddressSet) -> netaddr.IPSet:
    return netaddr.IPSet(str(b) for b in addresses.blocks)


def reference(claims: list[tuple[str, netaddr.IPSet]], decided: netaddr.IPSet
              ) -> tuple[dict[str, netaddr.IPSet], netaddr.IPSet]:
    remaining = NETADDR_FULL - decided
    out: dict[str, netaddr.IPSet] = {}
    for result, addresses in claims:
        matched = addresses & remaining
        if matched:
            out[result] = out.get(result, netaddr.IPSet()) | matched
            remaining = remaining - matched
    return out, NETADDR_FULL - remaining


def random_set(rng: random.Random) -> netaddr.IPSet:
    nets = []
    for _ in range(rng.randrange(0, 6)):
        if rng.random() < 0.7:
            base = rng.choice(["10.0.0.0", "10.0.1.0", "192.0.2.0", "255.255.255.0", "0.0.0.0", "10.0.0.128"])
            nets.append(netaddr.IPNetwork(f"{base}/{rng.choice([24, 25, 26, 30, 32, 16, 8])}").cidr)
        else:
            base = rng.choice(["2001:db8::", "2001:db8:0:1::", "::", "ffff::"])
            nets.append(netaddr.IPNetwork(f"{base}/{rng.choice([32, 48, 64, 127, 128])}").cidr)
    if rng.random() < 0.05:
        nets = [netaddr.IPNetwork("0.0.0.0/0"), netaddr.IPNetwork("::/0")]
    return netaddr.IPSet(nets)


def ours(addresses: netaddr.IPSet) -> AddressSet:
    return AddressSet.parse(str(n) for n in addresses.iter_cidrs())


def run_both(rng: random.Random, skip: str | None = None) -> None:
    given = [(rng.choice(["pass", "fail", "softfail", "neutral"]), random_set(rng)) for _ in range(rng.randrange(0, 6))]
    decided = random_set(rng)
    expected, grown = reference(given, decided)
    if skip is not None:
        expected.pop(skip, None)
    found, now = classes([Claim(r, ours(a)) for r, a in given], ours(decided), skip=skip)
    assert {r: as_netaddr(a) for r, a in found.items()} == expected
    assert as_netaddr(now) == grown


def test_classes_match_netaddr_set_operations() -> None:
    rng = random.Random(4408)
    for _ in range(400):
        run_both(rng)


def test_a_skipped_class_is_left_out_and_everything_else_is_unchanged() -> None:
    rng = random.Random(7208)
    for _ in range(400):
        run_both(rng, skip=rng.choice(["pass", "fail", "softfail", "neutral"]))


def test_interval_algebra_matches_netaddr() -> None:
    rng = random.Random(1918)
    for _ in range(400):
        a, b = random_set(rng), random_set(rng)
        assert as_netaddr(ours(a) | ours(b)) == a | b
        assert as_netaddr(ours(a) & ours(b)) == a & b
        assert as_netaddr(ours(a) - ours(b)) == a - b
        # Equal sets are equal boundaries: results come out merged, as if parsed afresh.
        assert ours(a) & ours(b) == ours(a & b) and ours(a) - ours(b) == ours(a - b)
        # The fewest blocks, as netaddr writes them.
        assert [str(b) for b in ours(a).blocks] == [str(n) for n in a.iter_cidrs()]


def test_origins_are_kept_exactly_where_their_network_meets_the_addresses() -> None:
    rng = random.Random(4408)
    for _ in range(400):
        addresses = random_set(rng)
        nets = list(random_set(rng).iter_cidrs())
        for net in addresses.iter_cidrs():  # networks inside the set, and ones holding part of it
            if net.prefixlen < (32 if net.version == 4 else 128) and rng.random() < 0.5:
                nets.append(next(net.subnet(net.prefixlen + 1)))
            if net.prefixlen > 0 and rng.random() < 0.5:
                nets.append(net.supernet(net.prefixlen - 1)[-1])
        origins = [(span_of(n), Origin(f"o{i}", ())) for i, n in enumerate(nets)]
        expected = [o for o, n in zip(origins, nets, strict=True) if addresses & netaddr.IPSet([n])]
        assert _overlapping(origins, ours(addresses)) == expected


def span_of(net: netaddr.IPNetwork) -> tuple[int, int]:
    import ipaddress

    return span(ipaddress.ip_network(str(net)))


def test_a_skipped_class_is_decided_but_not_returned() -> None:
    claims = [Claim("pass", AddressSet.parse(["10.0.0.0/8"])), Claim("fail", FULL)]
    found, decided = classes(claims, EMPTY, skip="fail")
    assert found == {"pass": AddressSet.parse(["10.0.0.0/8"])} and decided == FULL


def test_everything_decided_leaves_nothing() -> None:
    found, decided = classes([Claim("pass", AddressSet.parse(["10.0.0.0/8"]))], FULL)
    assert found == {} and decided == FULL
