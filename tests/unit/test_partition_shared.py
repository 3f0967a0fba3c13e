"""What a provider's tree holds (its broken records, its macro targets, the names in it) is read
once per run and shared by every domain that includes it, and gives each domain the answer a
search of its own tree gives: the first broken record in that domain's evaluation order."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from support.memresolver import MemoryResolver

from spfbuild.partition import Partition
from spfbuild.recordparse import parse
from spfbuild.tree import Fetched, Walker

PROVIDER = {
    "p.example": "v=spf1 include:ok.example include:nx.example include:two.example -all",
    "ok.example": "v=spf1 ip4:192.0.2.0/24 -all",
    "two.example": "v=spf1 include:ok.example include:shared.example -all",
    "shared.example": "v=spf1 ip4:198.51.100.0/24 -all",
}


def resolver(records: Mapping[str, str | tuple[str, ...]]) -> MemoryResolver:
    found = MemoryResolver().touch("nx.example")  # exists, no TXT: no SPF record
    for name, texts in records.items():
        found.txt(name, *((texts,) if isinstance(texts, str) else texts))
    return found


def roots(dns: MemoryResolver, *records: tuple[str, str]) -> tuple[Partition, list[Fetched]]:
    partition = Partition(Walker(dns))

    async def walk() -> list[Fetched]:
        return [await partition.walker.walk_record(domain, parse(text).record) for domain, text in records]

    found = asyncio.run(walk())
    # As flatten does before reading a tree: no cycle, so what lies below is settled.
    assert all(partition.graph.cycle(root) is None for root in found)
    return partition, found


class TestTheFirstBrokenRecord:
    def test_each_domain_gets_the_first_in_its_own_order_after_another_read_the_providers_tree(self) -> None:
        dns = resolver({**PROVIDER, "many.example": ("v=spf1 -all", "v=spf1 ~all")})
        partition, (first, second) = roots(
            dns, ("a.example", "v=spf1 include:p.example -all"),
            ("b.example", "v=spf1 include:many.example include:p.example -all"))
        p = partition.graph.node("p.example")
        assert p is not None and partition.graph.settled(p)
        assert partition.problem(first) == "nx.example has no SPF record (nodata)"
        assert partition.problem(second) == "many.example publishes 2 SPF records (permerror)"
        assert partition.problem(first) == "nx.example has no SPF record (nodata)"

    def test_a_skipped_include_is_not_entered_but_the_same_tree_through_another_is(self) -> None:
        partition, (root,) = roots(resolver(PROVIDER), ("a.example", "v=spf1 include:nx.example include:p.example"))
        assert partition.problem(root, frozenset({"nx.example"})) == "nx.example has no SPF record (nodata)"
        clean, (other,) = roots(resolver(PROVIDER), ("a.example", "v=spf1 include:ok.example include:two.example"))
        assert clean.problem(other) is None

    def test_a_dns_failure_deep_in_a_shared_tree_is_not_lasting(self) -> None:
        dns = resolver(PROVIDER).fail("shared.example")
        partition, (first, second) = roots(dns, ("a.example", "v=spf1 include:two.example -all"),
                                           ("b.example", "v=spf1 include:two.example -all"))
        for root in (first, second):
            child = partition.graph.node("two.example")
            assert child is not None
            why, lasting = partition.lasting_problem(child)
            assert why is not None and why.startswith("temperror") and not lasting
            assert partition.problem(root) == why


class TestNeverErrs:
    def test_a_clean_tree_never_errs_and_a_broken_or_macro_named_one_may(self) -> None:
        dns = resolver({**PROVIDER, "m.example": "v=spf1 include:deep.example -all",
                        "deep.example": "v=spf1 include:%{i}.x.example -all"})
        partition, _ = roots(dns, ("a.example", "v=spf1 include:two.example include:p.example include:m.example"))
        verdicts = {}
        for _ in range(2):  # read once, then from what the run kept: the same answers
            verdicts = {name: partition.never_errs(node) for name in ("two.example", "p.example", "m.example",
                                                                     "deep.example")
                        if (node := partition.graph.node(name)) is not None}
            assert verdicts == {"two.example": True, "p.example": False, "m.example": False, "deep.example": False}


class TestNamesBelow:
    def test_a_settled_providers_names_are_those_reachable_from_it(self) -> None:
        partition, (root,) = roots(resolver(PROVIDER), ("a.example", "v=spf1 include:two.example -all"))
        graph = partition.graph
        two = graph.node("two.example")
        assert two is not None and graph.settled(two)
        assert graph.names_below(two) == {"two.example", "ok.example", "shared.example"}
        assert not graph.settled(root)  # a composed record is no node of the graph
