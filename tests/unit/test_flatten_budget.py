"""The main record's byte budget leaves room for the other TXT records at the name."""

from __future__ import annotations

import asyncio

from support.memresolver import MemoryResolver

from spfbuild.catalogue import load_catalogue
from spfbuild.config import parse_config
from spfbuild.flattening import flatten_domain

CATALOGUE = load_catalogue()
RANGES = " ".join(f"ip4:198.18.{2 * i}.0/24" for i in range(24))  # never adjacent: no collapsing


def flattened_sizes(resolver: MemoryResolver, extra: str = "") -> list[int]:
    text = (f"domain: example.com\npolicy: fail\nsenders:\n  - include: _spf.provider.test\n"
            f"flatten:\n  max_lookups: 3\n{extra}")
    (spec,) = parse_config(text, "t.yaml", CATALOGUE).domains
    result = asyncio.run(flatten_domain(spec, CATALOGUE, resolver))
    return [r.size for r in result.record_set.records]


def provider() -> MemoryResolver:
    # Costs 4 lookups, so with a budget of 3 it must be flattened.
    resolver = MemoryResolver().txt("_spf.provider.test", "v=spf1 include:a.provider.test include:b.provider.test "
                                    "include:c.provider.test -all")
    resolver.txt("a.provider.test", f"v=spf1 {RANGES} -all").txt("b.provider.test", "v=spf1 -all")
    return resolver.txt("c.provider.test", "v=spf1 -all")


def test_site_verification_records_at_the_name_shrink_the_main_record_budget() -> None:
    alone = flattened_sizes(provider())
    crowded = provider().txt("example.com", "google-site-verification=" + "x" * 200, "MS=ms" + "1" * 150)
    shared = flattened_sizes(crowded)
    assert alone[0] > shared[0]
    # The whole answer still fits 512 bytes: header, question, one RR header per record, RDATA.
    assert 12 + len("example.com") + 6 + 3 * 12 + shared[0] + (226 + 1) + (155 + 1) <= 512


def test_reserve_bytes_overrides_the_measurement() -> None:
    sizes = flattened_sizes(provider(), "  reserve_bytes: 300\n")
    assert sizes[0] <= 450 - 300
    assert len(sizes) >= 2
