"""partition.classes works on integer intervals: it must give exactly what netaddr's own set
operations give, first match winning."""

from __future__ import annotations

import random

import netaddr

from spfbuild.partition import FULL, Claim, Origin, _overlapping, classes


def reference(claims: list[Claim], decided: netaddr.IPSet) -> tuple[dict[str, netaddr.IPSet], netaddr.IPSet]:
    remaining = FULL - decided
    out: dict[str, netaddr.IPSet] = {}
    for claim in claims:
        matched = claim.addresses & remaining
        if matched:
            out[claim.result] = out.get(claim.result, netaddr.IPSet()) | matched
            remaining = remaining - matched
    return out, FULL - remaining


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


def test_classes_match_netaddr_set_operations() -> None:
    rng = random.Random(4408)
    for _ in range(400):
        claims = [Claim(rng.choice(["pass", "fail", "softfail", "neutral"]), random_set(rng))
                  for _ in range(rng.randrange(0, 6))]
        decided = random_set(rng)
        assert classes(claims, decided) == reference(claims, decided)


def test_a_skipped_class_is_left_out_and_everything_else_is_unchanged() -> None:
    rng = random.Random(7208)
    for _ in range(400):
        claims = [Claim(rng.choice(["pass", "fail", "softfail", "neutral"]), random_set(rng))
                  for _ in range(rng.randrange(0, 6))]
        decided = random_set(rng)
        skip = rng.choice(["pass", "fail", "softfail", "neutral"])
        expected, grown = reference(claims, decided)
        expected.pop(skip, None)
        assert classes(claims, decided, skip=skip) == (expected, grown)


def test_origins_are_kept_exactly_where_their_network_meets_the_addresses() -> None:
    rng = random.Random(4408)
    for _ in range(400):
        addresses = random_set(rng)
        origins = [(net, Origin(f"o{i}", ())) for i, net in enumerate(random_set(rng).iter_cidrs())]
        for net in addresses.iter_cidrs():  # networks inside the set, and ones holding part of it
            if net.prefixlen < (32 if net.version == 4 else 128) and rng.random() < 0.5:
                origins.append((next(net.subnet(net.prefixlen + 1)), Origin("inside", ())))
            if net.prefixlen > 0 and rng.random() < 0.5:
                origins.append((net.supernet(net.prefixlen - 1)[-1], Origin("around", ())))
        expected = [(n, o) for n, o in origins if n in addresses or addresses & netaddr.IPSet([n])]
        assert _overlapping(origins, addresses) == expected


def test_a_skipped_class_is_decided_but_not_returned() -> None:
    claims = [Claim("pass", netaddr.IPSet(["10.0.0.0/8"])), Claim("fail", FULL)]
    found, decided = classes(claims, netaddr.IPSet(), skip="fail")
    assert found == {"pass": netaddr.IPSet(["10.0.0.0/8"])} and decided == FULL


def test_everything_decided_leaves_nothing() -> None:
    found, decided = classes([Claim("pass", netaddr.IPSet(["10.0.0.0/8"]))], FULL)
    assert found == {} and decided == FULL
