"""spfbuild.tree's graph: records resolved once per name per run, counts memoised per node,
cycles found on the graph, over an in-memory DNS."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from support.memresolver import MemoryResolver

from spfbuild.audit import audit, audit_many
from spfbuild.evaluation import check_host
from spfbuild.recordparse import parse
from spfbuild.tree import Fetched, Status, Walker, asks_own_terms, expand, unpublished, walk

OUTLOOK = {"spf.protection.outlook.com": "v=spf1 include:spfa.protection.outlook.com -all",
           "spfa.protection.outlook.com": "v=spf1 ip4:40.92.0.0/15 -all"}


def dns(records: dict[str, str]) -> MemoryResolver:
    resolver = MemoryResolver()
    for name, text in records.items():
        resolver.txt(name, text)
    return resolver


def diamond(depth: int) -> MemoryResolver:
    """x0 and y0 include x1 and y1, which include x2 and y2, ... : 2^depth paths to the bottom."""
    records = {f"{n}{i}.test": f"v=spf1 include:x{i + 1}.test include:y{i + 1}.test -all"
               for i in range(depth) for n in "xy"}
    records |= {f"x{depth}.test": "v=spf1 ip4:192.0.2.1 -all", f"y{depth}.test": "v=spf1 ip4:192.0.2.2 -all"}
    return dns(records)


def cycle_zone(closing: str) -> MemoryResolver:
    return dns({"example.com": "v=spf1 include:b.example include:c.example -all",
                "b.example": "v=spf1 include:c.example", "c.example": closing})


async def resolved(resolver: MemoryResolver, *domains: str) -> tuple[Walker, list[Fetched]]:
    walker = Walker(resolver)
    return walker, [await walker.walk(d) for d in domains]


class TestCounting:
    def test_a_deep_diamond_is_counted_exactly_in_well_under_a_second(self) -> None:
        resolver = diamond(14)
        started = time.monotonic()
        tree = asyncio.run(walk("x0.test", resolver))
        elapsed = time.monotonic() - started
        # Each level doubles what the one below costs, plus its own two includes.
        assert tree.lookups == 2 ** 15 - 2 and not tree.truncated
        assert elapsed < 1.0, elapsed
        assert len(resolver.queries) == 1 + 2 * 14  # each record fetched once

    def test_counts_are_the_evaluators_on_the_no_match_path(self) -> None:
        resolver = diamond(4)
        walker, (root,) = asyncio.run(resolved(resolver, "x0.test"))
        evaluation = asyncio.run(check_host("198.51.100.1", "x0.test", "a@x0.test", resolver, max_lookups=1000))
        assert walker.graph.cost(root).lookups == evaluation.lookups == 30

    def test_terms_after_all_are_neither_resolved_nor_counted(self) -> None:
        resolver = dns({"x.test": "v=spf1 ip4:192.0.2.0/24 -all a:foo.test mx:bar.test include:y.test"})
        walker, (root,) = asyncio.run(resolved(resolver, "x.test"))
        assert walker.graph.cost(root).lookups == 0
        assert {q.name for q in resolver.queries} == {"x.test"}

    def test_void_lookups_are_counted_per_family_over_every_path(self) -> None:
        resolver = dns({"example.com": "v=spf1 include:a.example include:b.example -all",
                        "a.example": "v=spf1 include:shared.example", "b.example": "v=spf1 include:shared.example",
                        "shared.example": "v=spf1 a:v6only.example -all"})
        resolver.add("v6only.example", "AAAA", "2001:db8::1")
        walker, (root,) = asyncio.run(resolved(resolver, "example.com"))
        cost = walker.graph.cost(root)
        assert (cost.lookups, cost.void_ipv4, cost.void_ipv6) == (6, 2, 0)

    def test_a_record_not_resolved_makes_the_count_a_lower_bound(self) -> None:
        resolver = dns({f"d{i}.example": f"v=spf1 include:d{i + 1}.example -all" for i in range(30)})
        walker, (root,) = asyncio.run(resolved(resolver, "d0.example"))
        cost = walker.graph.cost(root)
        assert not cost.complete and cost.lookups == 21
        assert walker.graph.unreached == {"d21.example": "includes nested deeper than 20"}


class TestReaching:
    def test_every_node_below_is_reached_once_in_evaluation_order(self) -> None:
        walker, (root,) = asyncio.run(resolved(diamond(2), "x0.test"))
        assert [n.domain for n in walker.graph.reachable(root)] == ["x0.test", "x1.test", "x2.test", "y2.test",
                                                                    "y1.test"]

    def test_a_stopping_node_is_reached_but_not_entered(self) -> None:
        walker, (root,) = asyncio.run(resolved(diamond(2), "x0.test"))
        reached = walker.graph.reachable(root, stop=lambda node: node.domain == "x1.test")
        # x2.test and y2.test are still reached through y1.test.
        assert [n.domain for n in reached] == ["x0.test", "x1.test", "y1.test", "x2.test", "y2.test"]


class TestCycles:
    def test_a_cycle_reached_from_two_branches_is_named_once_on_the_graph(self) -> None:
        for closing in ("v=spf1 include:b.example", "v=spf1 redirect=b.example"):
            walker, (root,) = asyncio.run(resolved(cycle_zone(closing), "example.com"))
            assert walker.graph.cycle(root) == ("b.example", "c.example", "b.example")

    def test_check_ends_at_once_with_the_loop_named(self) -> None:
        for closing in ("v=spf1 include:b.example", "v=spf1 redirect=b.example"):
            started = time.monotonic()
            report = asyncio.run(audit("example.com", cycle_zone(closing)))
            elapsed = time.monotonic() - started
            loops = [f.diagnostic.message for f in report.findings if f.diagnostic.name == "include-loop"]
            assert loops and all("b.example" in m and "c.example" in m for m in loops), loops
            assert report.has_errors and elapsed < 5, elapsed

    def test_no_count_is_made_up_where_a_cycle_is_reachable(self) -> None:
        walker, (root,) = asyncio.run(resolved(cycle_zone("v=spf1 include:b.example"), "example.com"))
        try:
            walker.graph.cost(root)
        except ValueError as exc:
            assert "cycle" in str(exc)
        else:
            raise AssertionError("a count for a cyclic graph")
        # The tree view still shows each path once round the cycle, ending in LOOP leaves.
        tree = expand(root, walker.graph)
        assert {n.status for _, n in tree.nodes()} >= {Status.LOOP} and tree.lookups == 6

    def test_an_unpublished_root_is_on_the_path_under_its_own_name(self) -> None:
        resolver = dns({"back.example": "v=spf1 include:flat.example -all", "flat.example": "v=spf1 -all"})
        walker = Walker(resolver)

        async def both() -> tuple[Fetched, Fetched]:
            root = await walker.walk_record("flat.example", parse("v=spf1 include:back.example -all").record)
            return root, await walker.walk("back.example")

        root, back = asyncio.run(both())
        assert walker.graph.cycle(root) == ("flat.example", "back.example", "flat.example")
        # Memoised as acyclic from its own root, back.example still leads back to this one.
        assert walker.graph.cycle(back) is None
        assert walker.graph.cycle(root) == ("flat.example", "back.example", "flat.example")


class TestSharing:
    def test_nodes_are_shared_by_name_across_domains(self) -> None:
        resolver = dns({**OUTLOOK, "a.example": "v=spf1 include:spf.protection.outlook.com -all",
                        "b.example": "v=spf1 include:spf.protection.outlook.com ~all"})
        walker, (a, b) = asyncio.run(resolved(resolver, "a.example", "b.example"))
        first, second = (walker.graph.node(child.followed or "") for child in (a.targets[0], b.targets[0]))
        assert first is second is walker.graph.node("spf.protection.outlook.com")
        assert Counter((q.name, q.rdtype) for q in resolver.queries)[("spf.protection.outlook.com", "TXT")] == 1

    def test_a_bulk_check_resolves_a_shared_provider_once(self) -> None:
        domains = [f"d{i}.example" for i in range(50)]
        resolver = dns({**OUTLOOK, **{d: "v=spf1 include:spf.protection.outlook.com -all" for d in domains}})

        async def run() -> list[int]:
            return [report.lookups async for report in audit_many(domains, resolver, concurrency=10)]

        assert asyncio.run(run()) == [2] * 50
        # TXT, SPF and _dmarc per domain, each asked once (no catalogue here: no DKIM selectors)
        assert len(resolver.queries) == len(set(resolver.queries)) == 3 * 50 + 2

    def test_concurrent_walks_of_one_cycle_do_not_wait_on_each_other(self) -> None:
        resolver = cycle_zone("v=spf1 include:b.example")
        walker = Walker(resolver)

        async def both() -> list[Fetched]:
            return list(await asyncio.wait_for(asyncio.gather(walker.walk("b.example"), walker.walk("c.example")), 5))

        b, c = asyncio.run(both())
        assert walker.graph.cycle(b) == ("b.example", "c.example", "b.example")
        assert walker.graph.cycle(c) == ("c.example", "b.example", "c.example")

    def test_the_trees_below_composed_roots_are_resolved_before_their_walks_ask_nothing_more(self) -> None:
        resolver = dns({**OUTLOOK, "_spf.google.example": "v=spf1 ip4:192.0.2.0/24 ~all"})
        resolver.add("relay.example", "A", "198.51.100.7")
        roots = [("a.example", parse("v=spf1 include:spf.protection.outlook.com -all").record),
                 ("b.example", parse("v=spf1 include:spf.protection.outlook.com include:_spf.google.example -all").record),
                 ("c.example", parse("v=spf1 a:relay.example include:_spf.google.example -all").record),
                 ("d.example", parse("v=spf1 ip4:203.0.113.0/24 include:spf.protection.outlook.com ~all").record)]
        walker = Walker(resolver)

        async def run() -> tuple[list[bool], int, list[Fetched]]:
            nodes = [unpublished(domain, record) for domain, record in roots]
            tasks = {walker.explore_below(node) for node in nodes}
            assert len(tasks) == 3  # d's targets are a's: explored once for both
            await asyncio.gather(*tasks)
            asking = [asks_own_terms(node) for node in nodes]
            before = len(resolver.queries)
            return asking, before, [await walker.walk_root(node) for node in nodes]

        asking, before, walked = asyncio.run(run())
        assert asking == [False, False, True, False]  # only c's own record asks DNS (its `a` term)
        assert before == 3 and {q.name for q in resolver.queries[:before]} == {*OUTLOOK, "_spf.google.example"}
        # The walks found every record below them in the graph: only c's own term was asked after.
        assert {(q.name, q.rdtype) for q in resolver.queries[before:]} == {("relay.example", "A"),
                                                                          ("relay.example", "AAAA")}
        assert [walker.graph.cost(root).lookups for root in walked] == [2, 3, 2, 2]
