"""`spfbuild flatten` asks BIND each (name, type) once, and only what the flattening needs: the
questions a receiver asks on the no-match path of the composed records (an IPv4 and an IPv6
client matching nothing, which every unauthorised sender is) and each domain's own TXT records
for the byte budget. The self-check asks nothing more: it reads the same answers."""

from __future__ import annotations

import asyncio
from collections import Counter

from support.named import NamedServer

from spfbuild.catalogue import load_catalogue
from spfbuild.cli.flattening import _flatten_all
from spfbuild.compose import compose
from spfbuild.config import parse_config
from spfbuild.dns import Resolver
from spfbuild.evaluation import check_host
from spfbuild.failure import DomainFailure
from spfbuild.selfcheck import Overlay

CATALOGUE = load_catalogue()
CONFIG = """\
domains:
  company.example.test:
    policy: fail
    senders:
      - provider: office365
      - provider: google
      - provider: mimecast
      - include: excl.flat.test
      - mx: flat.test/24
  marketing.example.test:
    policy: softfail
    senders:
      - provider: mailchimp
      - provider: sendgrid
      - provider: amazon-ses
      - a: host.flat.test
"""
NO_MATCH = ("0.0.0.1", "::1")  # in no sender's ranges


def asked(resolver: Resolver) -> Counter[tuple[str, str]]:
    return Counter((q.name.lower(), q.rdtype) for q in resolver.queries)


async def receivers_questions(nameserver: str, domain: str, record: str) -> set[tuple[str, str]]:
    resolver = Resolver([nameserver], timeout=2)
    served = Overlay(resolver, {domain: (record,)})
    for address in NO_MATCH:
        evaluation = await check_host(address, domain, f"postmaster@{domain}", served,
                                      max_lookups=1000, max_void_lookups=1000)
        assert evaluation.result in ("fail", "softfail"), evaluation
    return set(asked(resolver))


def test_each_question_is_asked_once_and_only_what_the_flattening_needs(named: NamedServer) -> None:
    cfg = parse_config(CONFIG, "senders.yaml", CATALOGUE)
    resolver = Resolver([named.nameserver], timeout=2)
    results = asyncio.run(_flatten_all(cfg, CATALOGUE, resolver))
    assert all(not isinstance(r, DomainFailure) for r in results), results

    counts = asked(resolver)
    assert max(counts.values()) == 1, [pair for pair, n in counts.items() if n > 1]
    needed = {(spec.domain, "TXT") for spec in cfg.domains}
    for spec in cfg.domains:
        needed |= asyncio.run(receivers_questions(named.nameserver, spec.domain, str(compose(spec, CATALOGUE).record)))
    assert set(counts) == needed
