"""Flattening judged by an independent oracle: pyspf evaluates the declared record and the flattened
records, both served by a real BIND 9, at every range boundary of the fixture zones and the output
and at random addresses; every address must get the same result from both."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from support.named import NamedFactory, NamedServer, fixture_zones
from support.pyspf_oracle import Oracle

import spfbuild
from bind.test_flatten import PROVIDERS, REDIRECT, TRICKY, addresses_for, zone
from spfbuild.dns import Resolver
from spfbuild.evaluation import check_host
from spfbuild.txt import quote_all, split_strings

EXCLUSIONS = """\
policy: softfail
senders:
  - include: excl.flat.test          # -ip4 exclusion inside, then ~all
  - include: redir-target.flat.test  # -ip4 inside a covering ip4
  - ip4: [192.0.2.128/26]            # overlaps the exclusion above: pass here, by this term
  - include: neutral.flat.test
    qualifier: fail                  # -include: fails what the target passes
flatten:
  max_lookups: 1
"""

CASES = {"tricky": TRICKY, "providers": PROVIDERS, "redirect": REDIRECT, "exclusions": EXCLUSIONS}


def _serve(records: list[spfbuild.Record], origin: str) -> str:
    return zone(origin, [(r.name, quote_all(split_strings(r.text))) for r in records])


@pytest.mark.parametrize("name", sorted(CASES))
def test_pyspf_gives_every_address_the_declared_result(name: str, named: NamedServer, named_factory: NamedFactory, tmp_path: Path) -> None:
    body = CASES[name]
    declared_file = tmp_path / "declared.yaml"
    declared_file.write_text(f"domain: {name}.before.test\n{body}", encoding="utf-8")
    flattened_file = tmp_path / "flattened.yaml"
    flattened_file.write_text(f"domain: {name}.after.test\n{body}", encoding="utf-8")

    # The declaration as composed, whatever its size: flattening is for records over the limits.
    (spec,) = spfbuild.load_config(declared_file).domains
    unbounded = replace(spec, flatten=replace(spec.flatten, max_lookups=1000))
    (declared,) = spfbuild.render(spfbuild.Config("declared", (unbounded,)))
    (flattened,) = spfbuild.flatten(spfbuild.load_config(flattened_file), nameservers=[named.nameserver])
    assert declared.error is None and flattened.error is None, (declared.error, flattened.error)

    zones = fixture_zones()
    zones["before.test"] = _serve(list(declared.records), "before.test")
    zones["after.test"] = _serve(list(flattened.records), "after.test")
    server = named_factory(zones)
    oracle = Oracle(server.nameserver)
    addresses = addresses_for([r.text for r in (*declared.records, *flattened.records)], count=150)
    differ = [
        f"{ip}: {before} declared, {after} flattened"
        for ip in addresses
        if (before := oracle.result(ip, f"{name}.before.test", lifted=True))
        != (after := oracle.result(ip, f"{name}.after.test"))
    ]
    assert differ == []


def test_the_evaluator_and_pyspf_agree_on_the_flattened_records(named: NamedServer, named_factory: NamedFactory,
                                                                 tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text(f"domain: tricky.after.test\n{TRICKY}", encoding="utf-8")
    (flattened,) = spfbuild.flatten(spfbuild.load_config(config), nameservers=[named.nameserver])
    assert flattened.error is None
    zones = fixture_zones()
    zones["after.test"] = _serve(list(flattened.records), "after.test")
    server = named_factory(zones)
    oracle = Oracle(server.nameserver)
    addresses = addresses_for([r.text for r in flattened.records], count=100)

    async def ours() -> list[str]:
        resolver = Resolver([server.nameserver], timeout=2)
        return [(await check_host(ip, "tricky.after.test", "postmaster@tricky.after.test", resolver)).result
                for ip in addresses]

    assert asyncio.run(ours()) == [oracle.result(ip, "tricky.after.test") for ip in addresses]


def test_the_oracle_sees_a_range_that_went_missing(named: NamedServer, named_factory: NamedFactory) -> None:
    # The control: a "flattened" record that lost 192.0.2.64/27 must differ from dup1's record there.
    zones = fixture_zones()
    zones["after.test"] = zone("after.test", [("lost.after.test", '"v=spf1 ip4:192.0.2.0/28 -all"')])
    oracle = Oracle(named_factory(zones).nameserver)
    assert oracle.result("192.0.2.70", "dup1.flat.test") == "pass"
    assert oracle.result("192.0.2.70", "lost.after.test") == "fail"
    assert oracle.result("192.0.2.1", "lost.after.test") == "pass"
