"""The questions sent before the flattening machinery is imported are exactly questions the
flattening itself asks at its first step: top-level include, redirect, a and mx targets and
the domain's TXT records, nothing after `all`, nothing with macros."""

from __future__ import annotations

import asyncio

from spfbuild.catalogue import load_catalogue
from spfbuild.config import parse_config
from spfbuild.flattening import flatten_domain
from spfbuild.prefetch import first_questions

from .memresolver import MemoryResolver

CATALOGUE = load_catalogue()


def spec_of(text: str):  # type: ignore[no-untyped-def]
    (spec,) = parse_config(text, "t.yaml", CATALOGUE).domains
    return spec


def zone() -> MemoryResolver:
    resolver = MemoryResolver().txt("a.provider.test", "v=spf1 ip4:198.18.0.0/24 include:b.provider.test -all")
    resolver.txt("b.provider.test", "v=spf1 ip4:198.18.1.0/24 -all").txt("r.provider.test", "v=spf1 ip4:198.18.2.0/24 -all")
    resolver.add("host.example.com", "A", "192.0.2.10").add("example.com", "MX", (10, "mx.example.com"))
    return resolver.add("mx.example.com", "A", "192.0.2.25").txt("example.com", "google-site-verification=x")


CONFIG = """\
domain: example.com
policy: fail
senders:
  - include: a.provider.test
  - a: host.example.com
  - mx: true
  - ip4: [192.0.2.0/28]
"""


def test_first_questions_are_the_top_level_targets_and_the_domain_txt() -> None:
    assert first_questions(spec_of(CONFIG), CATALOGUE) == [
        ("example.com", "TXT"), ("a.provider.test", "TXT"), ("host.example.com", "A"), ("host.example.com", "AAAA"),
        ("example.com", "MX"),
    ]


def test_reserve_bytes_means_the_domain_txt_is_not_asked() -> None:
    spec = spec_of(CONFIG + "flatten:\n  reserve_bytes: 100\n")
    assert ("example.com", "TXT") not in first_questions(spec, CATALOGUE)


def test_nothing_after_all_nothing_with_macros_and_redirect_only_without_all() -> None:
    existing = 'existing: "v=spf1 exists:%{i}.e.provider.test include:%{d}.m.provider.test redirect=r.provider.test"\n'
    with_all = spec_of("domain: example.com\npolicy: fail\n" + existing + "senders:\n  - include: a.provider.test\n")
    assert first_questions(with_all, CATALOGUE) == [("example.com", "TXT"), ("a.provider.test", "TXT")]
    without_all = spec_of("domain: example.com\n" + existing + "senders:\n  - include: a.provider.test\n")
    assert first_questions(without_all, CATALOGUE)[-1] == ("r.provider.test", "TXT")


def test_every_first_question_is_one_the_flattening_asks() -> None:
    for text in (CONFIG, CONFIG + "flatten:\n  reserve_bytes: 100\n",
                 "domain: example.com\nexisting: \"v=spf1 ip4:192.0.2.1 redirect=r.provider.test\"\n"
                 "senders:\n  - include: b.provider.test\n"):
        resolver = zone()
        spec = spec_of(text)
        asyncio.run(flatten_domain(spec, CATALOGUE, resolver))  # type: ignore[arg-type]
        asked = {(name, rdtype) for name, rdtype in resolver.calls}
        assert set(first_questions(spec, CATALOGUE)) <= asked, text
