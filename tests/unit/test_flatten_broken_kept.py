"""A term kept as written whose tree is broken for every receiver alike (an include of a name
that does not exist: permerror for every client that reaches it) stays where it stands, nothing
moves ahead of it, and the run says so; a DNS failure in such a tree still refuses the run."""

from __future__ import annotations

import asyncio

import pytest
from support.memresolver import MemoryResolver

from spfbuild.catalogue import load_catalogue
from spfbuild.config import parse_config
from spfbuild.dns import Outcome
from spfbuild.flattening import Flattened, FlattenError, flatten_domain

CATALOGUE = load_catalogue()


def flatten(existing: str, resolver: MemoryResolver) -> Flattened:
    (spec,) = parse_config(f'domain: example.com\nexisting: "{existing}"\n', "t.yaml", CATALOGUE).domains
    return asyncio.run(flatten_domain(spec, CATALOGUE, resolver))


@pytest.mark.parametrize("existing", [
    "v=spf1 include:%{d}.nx.example ip4:198.51.100.0/24 -all",
    "v=spf1 ip4:192.0.2.0/24 include:%{d}.nx.example ip4:198.51.100.0/24 -all",
])
def test_an_include_of_a_name_that_does_not_exist_keeps_its_place(existing: str) -> None:
    flattened = flatten(existing, MemoryResolver().touch("nx.example"))
    assert [r.value for r in flattened.record_set.records] == [existing]
    assert flattened.kept == ("include:%{d}.nx.example",)
    assert any("example.com.nx.example has no SPF record" in w and "permerror" in w for w in flattened.warnings)


def test_a_dns_failure_under_a_kept_include_still_refuses() -> None:
    resolver = MemoryResolver().fail("example.com.nx.example", Outcome.SERVFAIL)
    with pytest.raises(FlattenError, match="temperror"):
        flatten("v=spf1 include:%{d}.nx.example ip4:198.51.100.0/24 -all", resolver)
