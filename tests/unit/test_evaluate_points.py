"""check_points() is check_hosts() for addresses given as (family, integer) points: the same
evaluation for each point, and an IPv4-mapped IPv6 point is the IPv4 address it holds (RFC 7208
section 5.6), as it is for an address object."""

from __future__ import annotations

import asyncio
import ipaddress

from support.memresolver import MemoryResolver

from spfbuild.evaluation import check_hosts, check_points, sender_address, sender_point


def world() -> MemoryResolver:
    resolver = MemoryResolver()
    resolver.txt("p.test", "v=spf1 ip4:192.0.2.0/25 -ip4:192.0.2.128/26 include:q.test ip6:2001:db8::/64 ~all")
    resolver.txt("q.test", "v=spf1 ip4:198.51.100.0/24 -all")
    return resolver


ADDRESSES = ["192.0.2.1", "192.0.2.130", "192.0.2.200", "198.51.100.9", "203.0.113.1", "2001:db8::1",
             "2001:db8:1::1", "::ffff:192.0.2.1", "::ffff:203.0.113.1"]


def test_points_give_what_addresses_give() -> None:
    async def run() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        ips = [ipaddress.ip_address(a) for a in ADDRESSES]
        by_address = await check_hosts(ips, "p.test", "postmaster@p.test", world())
        by_point = await check_points([(ip.version, int(ip)) for ip in ips], "p.test", "postmaster@p.test", world())
        return [(e.result, e.lookups) for e in by_address], [(e.result, e.lookups) for e in by_point]

    by_address, by_point = asyncio.run(run())
    assert by_point == by_address
    assert [r for r, _ in by_point] == ["pass", "fail", "softfail", "pass", "softfail", "pass", "softfail",
                                        "pass", "softfail"]


def test_an_ipv4_mapped_point_is_its_ipv4_address() -> None:
    mapped = ipaddress.IPv6Address("::ffff:192.0.2.1")
    assert sender_point(6, int(mapped)) == (4, int(ipaddress.IPv4Address("192.0.2.1")))
    assert sender_address(mapped) == ipaddress.IPv4Address("192.0.2.1")
    # Only ::ffff:0:0/96 is mapped: its neighbours stay IPv6.
    for other in ("::fffe:c000:201", "::1:ffff:c000:201"):
        value = int(ipaddress.IPv6Address(other))
        assert sender_point(6, value) == (6, value)
