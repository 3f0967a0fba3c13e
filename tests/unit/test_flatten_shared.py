"""The domains of one run share what is the same for all of them (a provider's ranges, their
text, where each came from), and each domain's result is the one it gets when flattened alone."""

from __future__ import annotations

import asyncio

from spfbuild.catalogue import load_catalogue
from spfbuild.compose import _cost, compose
from spfbuild.config import parse_config
from spfbuild.flattening import Flattened, flatten_all, flatten_or_error

from .test_flatten_graph import provider_zone

CATALOGUE = load_catalogue()
SENDERS = (("p0.test", "p1.test"), ("p1.test",), ("p1.test", "p0.test"), ("p0.test",))


def config(count: int, max_lookups: int) -> str:
    text = "defaults:\n  policy: fail\n  flatten:\n" f"    max_lookups: {max_lookups}\ndomains:\n"
    for n in range(count):
        includes = "".join(f"      - include: {name}\n" for name in SENDERS[n % len(SENDERS)])
        text += f"  d{n}.example:\n    senders:\n{includes}      - ip4: [203.0.113.{n}]\n"
    return text


def run_together(text: str) -> list[Flattened]:
    found = asyncio.run(flatten_all(parse_config(text, "t.yaml", CATALOGUE).domains, CATALOGUE, provider_zone()))
    assert all(isinstance(r, Flattened) for r in found), found
    return [r for r in found if isinstance(r, Flattened)]


def run_alone(text: str) -> list[Flattened]:
    found = [asyncio.run(flatten_or_error(spec, CATALOGUE, provider_zone()))
             for spec in parse_config(text, "t.yaml", CATALOGUE).domains]
    assert all(isinstance(r, Flattened) for r in found), found
    return [r for r in found if isinstance(r, Flattened)]


def test_each_domain_of_a_run_gets_the_records_origins_and_sources_it_gets_alone() -> None:
    for budget in (10, 2):  # kept includes; flattened into chained records
        text = config(8, budget)
        for together, alone in zip(run_together(text), run_alone(text), strict=True):
            assert together.record_set == alone.record_set
            assert together.origins == alone.origins and together.sources == alone.sources
            assert together.kept == alone.kept and together.checked == alone.checked


def test_a_domains_sources_are_its_own_lists() -> None:
    first, second, *_ = run_together(config(4, 2))
    shared = "include:p1.test"
    assert first.sources[shared] == second.sources[shared]
    first.sources[shared].append("192.0.2.0/24")  # what a caller does with one domain's report
    assert "192.0.2.0/24" not in second.sources[shared]


def test_every_composed_term_is_counted_as_counting_it_afresh_gives() -> None:
    text = ("domain: example.com\npolicy: fail\nsenders:\n  - include: _spf.google.com\n  - provider: google\n"
            "  - provider: office365\n  - ip4: [198.51.100.0/25, 198.51.100.128/25]\n  - include: p0.test\n")
    (spec,) = parse_config(text, "t.yaml", CATALOGUE).domains
    composed = compose(spec, CATALOGUE)
    assert [c.lookups for c in composed.terms] == [_cost(c, CATALOGUE).lookups for c in composed.terms]
    assert [c.lookups_known for c in composed.terms] == [_cost(c, CATALOGUE).lookups_known for c in composed.terms]
    assert str(composed.record) == ("v=spf1 include:_spf.google.com include:spf.protection.outlook.com "
                                    "ip4:198.51.100.0/24 include:p0.test -all")
