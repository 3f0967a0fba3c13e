"""Flattening reads the one resolved graph: its lookup costs are the graph's (what check and
check_host count), a cycle is refused at once with the cycle named, a deep diamond is counted in
linear time, and a failing or slow DNS ends in one line with no task left behind."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from support.memresolver import MemoryResolver

from spfbuild.audit import audit
from spfbuild.catalogue import load_catalogue
from spfbuild.config import DomainSpec, parse_config
from spfbuild.dns import Answer, Outcome
from spfbuild.evaluation import check_host
from spfbuild.failure import DomainFailure
from spfbuild.flattening import Flattened, flatten_all, flatten_or_error

from .test_tree_graph import cycle_zone, diamond

CATALOGUE = load_catalogue()


def spec(text: str) -> DomainSpec:
    (domain,) = parse_config(text, "t.yaml", CATALOGUE).domains
    return domain


def flattened(text: str, resolver: MemoryResolver) -> Flattened | DomainFailure:
    return asyncio.run(flatten_or_error(spec(text), CATALOGUE, resolver))


def test_terms_after_all_cost_nothing_as_check_and_check_host_count() -> None:
    resolver = MemoryResolver().txt("x.test", "v=spf1 ip4:192.0.2.0/24 -all a:foo.test mx:bar.test include:y.test")
    result = flattened("domain: example.com\npolicy: fail\nsenders:\n  - include: x.test\n"
                       "flatten:\n  keep: [x.test]\n  max_lookups: 3\n", resolver)
    assert isinstance(result, Flattened), result
    assert result.lookups == 1 and result.record_set.records[0].value == "v=spf1 include:x.test -all"
    assert asyncio.run(audit("x.test", resolver)).lookups == 0
    evaluation = asyncio.run(check_host("198.51.100.1", "x.test", "a@x.test", resolver))
    assert evaluation.lookups == 0 and evaluation.result == "fail"
    assert not {"foo.test", "bar.test", "y.test"} & {q.name for q in resolver.queries}


@pytest.mark.parametrize("closing", ["v=spf1 include:b.example", "v=spf1 redirect=b.example"])
def test_a_cycle_reached_from_two_branches_is_refused_at_once_and_named(closing: str) -> None:
    started = time.monotonic()
    result = flattened("domain: flat.example\npolicy: fail\nsenders:\n  - include: example.com\n", cycle_zone(closing))
    elapsed = time.monotonic() - started
    assert isinstance(result, DomainFailure)
    assert result.message == "flat.example: include loop: b.example -> c.example -> b.example"
    assert elapsed < 5, elapsed


def test_a_deep_diamond_costs_are_counted_in_well_under_a_second() -> None:
    resolver = diamond(14)
    started = time.monotonic()
    kept = flattened("domain: flat.example\npolicy: fail\nsenders:\n  - include: x0.test\n"
                     "flatten:\n  keep: [x0.test]\n  self_check: false\n", resolver)
    flat = flattened("domain: flat.example\npolicy: fail\nsenders:\n  - include: x0.test\n"
                     "flatten:\n  self_check: false\n", resolver)
    elapsed = time.monotonic() - started
    assert isinstance(kept, DomainFailure)
    assert f"{2 ** 15 - 1} DNS lookups even with everything flattenable flattened" in kept.message
    assert isinstance(flat, Flattened) and flat.record_set.records[0].value == "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 -all"
    assert elapsed < 1.0, elapsed


def test_the_domains_of_a_run_share_one_resolution_of_a_provider() -> None:
    resolver = provider_zone()
    text = "domains:\n" + "".join(
        f"  d{i}.example:\n    policy: fail\n    senders:\n      - include: p0.test\n    flatten:\n"
        "      self_check: false\n" for i in range(5)
    )
    results = asyncio.run(flatten_all(parse_config(text, "t.yaml", CATALOGUE).domains, CATALOGUE, resolver))
    assert len({r.record_set.records[0].value for r in results if isinstance(r, Flattened)}) == 1
    # Every question of the provider's tree was put to the resolver once, not once per domain.
    assert resolver.calls.count(("p0.test", "TXT")) == resolver.calls.count(("mx0.test", "MX")) == 1


class Overloaded:
    """An in-memory zone behind a server that drops most questions (a timeout after a delay)
    and answers the rest late, in random order."""

    def __init__(self, zone: MemoryResolver, seed: int):
        self.zone = zone
        self.rng = random.Random(seed)

    async def query(self, name: str, rdtype: str) -> Answer:
        await asyncio.sleep(self.rng.random() / 100)
        if self.rng.random() < 0.6:
            return Answer(name, rdtype, Outcome.TIMEOUT, server="overloaded")
        return await self.zone.query(name, rdtype)


def provider_zone() -> MemoryResolver:
    resolver = MemoryResolver()
    for provider in range(4):
        parts = " ".join(f"include:p{provider}-{n}.test" for n in range(3))
        resolver.txt(f"p{provider}.test", f"v=spf1 {parts} a:host{provider}.test mx:mx{provider}.test -all")
        for n in range(3):
            resolver.txt(f"p{provider}-{n}.test", f"v=spf1 ip4:198.18.{provider}.{n * 8}/29 ~all")
        resolver.add(f"host{provider}.test", "A", f"198.19.{provider}.1")
        resolver.add(f"mx{provider}.test", "MX", (10, f"m{provider}.test")).add(f"m{provider}.test", "A", "198.19.9.9")
    return resolver


@pytest.mark.parametrize("seed", range(8))
def test_an_overloaded_server_gives_one_line_and_leaves_no_task_behind(seed: int) -> None:
    text = "domains:\n" + "".join(
        f"  d{i}.example:\n    policy: fail\n    senders:\n" + "".join(f"      - include: p{p}.test\n" for p in range(4))
        for i in range(3)
    )
    specs = parse_config(text, "t.yaml", CATALOGUE).domains
    problems: list[object] = []

    async def run() -> list[Flattened | DomainFailure]:
        asyncio.get_running_loop().set_exception_handler(lambda _, context: problems.append(context))
        results = await flatten_all(specs, CATALOGUE, Overloaded(provider_zone(), seed))
        assert asyncio.all_tasks() == {asyncio.current_task()}  # nothing left running
        return results

    results = asyncio.run(run())
    assert problems == []
    for result in results:
        if isinstance(result, DomainFailure):
            assert "\n" not in result.message and result.message.startswith("d"), result
            assert "temperror: timeout" in result.message and result.is_dns, result
    assert any(isinstance(r, DomainFailure) for r in results)
