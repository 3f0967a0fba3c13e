"""`spfbuild flatten` asks BIND each (name, type) once, and only what the flattening needs: the
first questions, sent before the flattening machinery is imported, are not asked again and add
nothing to what a run without them asks."""

from __future__ import annotations

import asyncio
from collections import Counter

from bind import NamedServer

from spfbuild.catalogue import load_catalogue
from spfbuild.cli.flattening import _flatten_all
from spfbuild.config import parse_config
from spfbuild.dns import Resolver
from spfbuild.flattening import flatten_or_error

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


def asked(resolver: Resolver) -> Counter[tuple[str, str]]:
    return Counter((q.name.lower(), q.rdtype) for q in resolver.queries)


def test_each_question_is_asked_once_and_the_first_ones_add_nothing(named: NamedServer) -> None:
    cfg = parse_config(CONFIG, "senders.yaml", CATALOGUE)
    with_prefetch = Resolver([named.nameserver], timeout=2)
    results = asyncio.run(_flatten_all(cfg, CATALOGUE, with_prefetch))
    assert all(not isinstance(r, str) for r in results), results

    plain = Resolver([named.nameserver], timeout=2)

    async def without_prefetch() -> list[object]:
        return list(await asyncio.gather(*(flatten_or_error(s, CATALOGUE, plain) for s in cfg.domains)))

    assert [getattr(r, "record_set", r) for r in asyncio.run(without_prefetch())] == [r.record_set for r in results]
    counts = asked(with_prefetch)
    assert max(counts.values()) == 1, [pair for pair, n in counts.items() if n > 1]
    assert set(counts) == set(asked(plain))
