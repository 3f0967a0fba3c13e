"""The flattener's self-check: no question per sample address, samples at every range boundary,
and a wrong flattening is still caught."""

from __future__ import annotations

import asyncio
import re
from ipaddress import IPv4Address

import pytest
from support.memresolver import MemoryResolver

from spfbuild.catalogue import load_catalogue
from spfbuild.config import parse_config
from spfbuild.emit import RecordSet, TxtRecord
from spfbuild.flattening import flatten_domain
from spfbuild.intervals import AddressSet
from spfbuild.partition import FlattenError
from spfbuild.recordparse import parse
from spfbuild.selfcheck import boundary_addresses, boundary_points, self_check, tree_points, tree_spans
from spfbuild.tree import Walker

CATALOGUE = load_catalogue()


def tree() -> MemoryResolver:
    resolver = MemoryResolver()
    resolver.txt("_spf.crm.test", "v=spf1 exists:%{i}._spf.mta.crm.test -all")
    resolver.add("13.110.208.21._spf.mta.crm.test", "A", "127.0.0.1")
    resolver.txt("mx.host.test", "v=spf1 ptr:mail.host.test ip4:8.33.137.105 ?all")
    resolver.txt("spf.mailbox.test", "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip6:2a01:111:f400::/48 -all")
    return resolver


def check_against(resolver: MemoryResolver, original: str, flattened: RecordSet, samples: list[AddressSet]) -> int:
    """The self-check of `flattened` against `original` published at flat.test, resolved as flatten resolves it."""
    async def run() -> int:
        walker = Walker(resolver)
        root = await walker.walk_record("flat.test", parse(original).record)
        return await self_check(root, walker.graph, flattened, resolver, samples)

    return asyncio.run(run())


def spec(text: str):  # type: ignore[no-untyped-def]
    (domain,) = parse_config(text, "t.yaml", CATALOGUE).domains
    return domain


def test_questions_naming_the_sample_address_are_not_sent() -> None:
    resolver = tree()
    config = spec(
        "domain: flat.test\npolicy: fail\nsenders:\n  - include: spf.mailbox.test\n"
        "  - include: _spf.crm.test\n  - include: mx.host.test\nflatten:\n  reserve_bytes: 0\n"
    )
    result = asyncio.run(flatten_domain(config, CATALOGUE, resolver))
    assert result.checked >= 8
    asked = {name for name, _ in resolver.calls}
    assert not any(name.endswith("._spf.mta.crm.test") for name in asked), sorted(asked)
    assert not any(name.endswith((".in-addr.arpa", ".ip6.arpa")) for name in asked), sorted(asked)
    assert len(resolver.queries) == len({(q.name, q.rdtype) for q in resolver.queries})


def test_a_wrong_flattening_is_caught() -> None:
    wrong = RecordSet("flat.test", (TxtRecord("flat.test", "v=spf1 ip4:40.92.0.0/15 -all", 300),))
    samples = [AddressSet.parse(["40.92.0.0/15", "40.107.0.0/16", "2a01:111:f400::/48"])]
    with pytest.raises(FlattenError, match=re.escape("self-check failed: 40.107.0.0 ")):
        check_against(tree(), "v=spf1 include:spf.mailbox.test -all", wrong, samples)


def test_a_range_only_in_the_original_tree_is_sampled() -> None:
    # The flattened side forgot 40.107.0.0/16; the caller's sets do not name it either: the
    # self-check still samples it because it walks the original's includes.
    wrong = RecordSet("flat.test", (TxtRecord("flat.test", "v=spf1 ip4:40.92.0.0/15 ip6:2a01:111:f400::/48 -all",
                                              300),))
    with pytest.raises(FlattenError, match="self-check failed"):
        check_against(tree(), "v=spf1 include:spf.mailbox.test -all", wrong, [])


def test_one_address_per_interval_between_boundaries() -> None:
    points = boundary_addresses([AddressSet.parse(["10.0.0.0/24", "10.0.1.0/24"]), AddressSet.parse(["10.0.1.7"])])
    # 10.0.0.0-10.0.1.255 is one range, not split where its two CIDR blocks meet; 10.0.1.7 cuts it.
    assert [str(p) for p in points] == ["0.0.0.0", "10.0.0.0", "10.0.1.7", "10.0.1.8", "10.0.2.0", "::"]
    assert [str(p) for p in boundary_addresses([AddressSet.parse(["255.255.255.0/24"])])] == ["0.0.0.0", "255.255.255.0",
                                                                                          "::"]


def test_an_a_host_only_in_the_original_tree_is_checked() -> None:
    resolver = tree()
    resolver.txt("hosts.test", "v=spf1 a:relay.hosts.test/31 -all").add("relay.hosts.test", "A", "192.0.2.10")
    wrong = RecordSet("flat.test", (TxtRecord("flat.test", "v=spf1 ip4:192.0.2.10 -all", 300),))
    with pytest.raises(FlattenError, match=re.escape("self-check failed: 192.0.2.11 ")):
        check_against(resolver, "v=spf1 include:hosts.test -all", wrong, [])


def test_a_settled_provider_tree_gives_the_same_boundaries_to_every_domain_that_includes_it() -> None:
    resolver = tree()
    resolver.txt("hosts.test", "v=spf1 a:relay.hosts.test/31 include:spf.mailbox.test -all")
    resolver.add("relay.hosts.test", "A", "192.0.2.10")

    async def boundaries(domain: str, record: str) -> tuple[list[int], list[int]]:
        root = await walker.walk_record(domain, parse(record).record)
        assert walker.graph.cycle(root) is None  # settles the provider's nodes
        return (boundary_points((), points=tree_points(root, walker.graph), limit=None),
                boundary_points((), spans=tree_spans(root, walker.graph), limit=None))

    walker = Walker(resolver)
    for domain, own in (("one.test", "198.51.100.0/24"), ("two.test", "203.0.113.7")):
        read, expected = asyncio.run(boundaries(domain, f"v=spf1 ip4:{own} include:hosts.test -all"))
        # The second domain reads the provider's points as the first left them, and its own range is its own.
        assert read == expected
        assert int(IPv4Address(own.split("/")[0])) in read
