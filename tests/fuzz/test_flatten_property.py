"""Flattening randomly generated record trees gives, for random addresses, the same result as the
evaluator on the original (includes, exclusions, qualifiers, redirect, a/mx, ip4/ip6)."""

from __future__ import annotations

import asyncio
import ipaddress
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.memresolver import MemoryResolver

from spfbuild.catalogue import load_catalogue
from spfbuild.config import parse_config
from spfbuild.evaluation import check_host
from spfbuild.flattening import FlattenError, flatten_domain
from spfbuild.selfcheck import Overlay

CATALOGUE = load_catalogue()
QUALIFIERS = ["", "-", "~", "?"]


def network(rng: random.Random, six: bool = True) -> str:
    if six and rng.random() < 0.2:
        return f"ip6:2001:db8::{rng.randrange(0, 256):x}/{rng.choice([120, 124, 128])}"
    prefix = rng.choice([24, 26, 27, 28, 30, 32])
    base = ipaddress.ip_network(f"198.18.0.{rng.randrange(256)}/{prefix}", strict=False)
    return f"ip4:{base.network_address}/{prefix}" if prefix != 32 else f"ip4:{base.network_address}"


def build_tree(seed: int) -> tuple[MemoryResolver, list[str]]:
    rng = random.Random(seed)
    resolver = MemoryResolver()
    resolver.add("host.tree.test", "A", "198.18.0.77").add("host.tree.test", "AAAA", "2001:db8::77")
    resolver.add("tree.test", "MX", (10, "host.tree.test"))
    count = 5
    for i in reversed(range(count)):
        terms = []
        for _ in range(rng.randrange(1, 5)):
            kind = rng.random()
            q = rng.choice(QUALIFIERS)
            if kind < 0.55:
                terms.append(q + network(rng))
            elif kind < 0.75 and i + 1 < count:
                terms.append(f"{q}include:t{rng.randrange(i + 1, count)}.tree.test")
            elif kind < 0.85:
                terms.append(f"{q}a:host.tree.test/{rng.choice([24, 28, 32])}")
            else:
                terms.append(f"{q}mx:tree.test/{rng.choice([26, 32])}")
        ending = rng.random()
        if ending < 0.5:
            terms.append(rng.choice(QUALIFIERS) + "all")
        elif ending < 0.75 and i + 1 < count:
            terms.append(f"redirect=t{rng.randrange(i + 1, count)}.tree.test")
        resolver.txt(f"t{i}.tree.test", "v=spf1 " + " ".join(terms))
    senders = []
    for i in rng.sample(range(count), rng.randrange(1, count + 1)):
        q = rng.choice(["pass", "pass", "neutral", "softfail"])
        senders.append(f"  - include: t{i}.tree.test\n    qualifier: {q}\n")
    if rng.random() < 0.5:
        senders.append(f"  - ip4: [{network(rng, six=False)[4:]}]\n" if rng.random() < 0.8 else "  - mx: tree.test\n")
    return resolver, senders


def addresses(seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    found = [f"198.18.0.{i}" for i in range(0, 256, 3)] + ["198.18.0.77", "198.18.1.1", "10.0.0.1"]
    found += [f"2001:db8::{rng.randrange(512):x}" for _ in range(20)] + ["2001:db8::77"]
    return found


async def compare(seed: int, policy: str, max_lookups: int) -> None:
    resolver, senders = build_tree(seed)
    text = f"domain: flat.tree.test\npolicy: {policy}\nsenders:\n{''.join(senders)}flatten:\n" \
           f"  max_lookups: {max_lookups}\n  self_check: false\n"
    (spec,) = parse_config(text, "t.yaml", CATALOGUE).domains
    try:
        result = await flatten_domain(spec, CATALOGUE, resolver)
    except FlattenError as exc:
        # Budgets a random tree may not fit: refusing is right; emitting something wrong is not.
        assert any(m in str(exc) for m in ("DNS lookups even with everything flattenable", "budget")), exc
        return
    from spfbuild.compose import compose

    original = str(compose(spec, CATALOGUE).record)
    before = Overlay(resolver, {"flat.tree.test": (original,)})
    after = Overlay(resolver, {r.name: (r.value,) for r in result.record_set.records})
    for address in addresses(seed):
        old = await check_host(address, "flat.tree.test", "a@flat.tree.test", before,
                               max_lookups=1000, max_void_lookups=1000)
        new = await check_host(address, "flat.tree.test", "a@flat.tree.test", after)
        assert old.result == new.result, (address, original, [r.value for r in result.record_set.records])
        assert new.lookups <= max_lookups


@given(st.integers(0, 2**32), st.sampled_from(["fail", "softfail", "neutral"]), st.sampled_from([0, 2, 10]))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_flattened_records_give_every_address_the_original_result(seed: int, policy: str, max_lookups: int) -> None:
    asyncio.run(compare(seed, policy, max_lookups))
