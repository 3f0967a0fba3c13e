"""Every domain of a config judged at once, over one resolver, one include graph and one set of
shared evaluations: a provider that many domains include is resolved once and evaluated once
per address, and each (name, type) is asked once per run (the resolver's cache)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

from spfbuild.catalogue import Catalogue
from spfbuild.compiled.names import COMPILED_MARK
from spfbuild.config import DomainSpec
from spfbuild.drift.companions import compare_companions
from spfbuild.drift.model import DIFFERS, ERROR, IN_SYNC, MISSING, UNREACHABLE, CompanionDrift, DomainDrift
from spfbuild.drift.spf import CONCURRENT, compare, record_diff
from spfbuild.intervals import IPNetwork
from spfbuild.mechanisms import DNSResolver
from spfbuild.partition import Partition
from spfbuild.tree import Status, Walker

__all__ = ["diff_all", "diff_domain"]


async def diff_all(specs: Sequence[DomainSpec], catalogue: Catalogue, resolver: DNSResolver,
                   on_done: Callable[[], None] | None = None) -> list[DomainDrift]:
    """`diff_domain` for every domain at once, in the config's order; `on_done` is called as
    each domain finishes (a progress line)."""
    partition = Partition(Walker(resolver))
    gate = asyncio.Semaphore(CONCURRENT)  # one bound on per-address questions for the whole run

    async def one(spec: DomainSpec) -> DomainDrift:
        found = await diff_domain(spec, catalogue, partition, gate)
        if on_done is not None:
            on_done()
        return found

    return list(await asyncio.gather(*(one(spec) for spec in specs)))


async def diff_domain(spec: DomainSpec, catalogue: Catalogue, partition: Partition,
                      gate: asyncio.Semaphore | None = None) -> DomainDrift:
    """What `spec.domain` publishes against what `spec` declares. Never raises for what DNS or
    the records say: a DNS failure is `unreachable`, a declaration that cannot be built `error`.
    `partition` (over a walker of the run's resolver) and `gate` are shared by a run's domains."""
    from spfbuild.companions import CompanionError, companions_for
    from spfbuild.compose import ComposeError, compose, declare

    domain = spec.domain
    try:
        declared = declare(spec, catalogue)
        declaration = declared.record
        composed = str(compose(spec, catalogue, declared=declared).record)
        companions = companions_for(spec, catalogue)
    except (ComposeError, CompanionError) as exc:
        message = str(exc)
        return DomainDrift(domain, ERROR, "", None, error=message if message.startswith(domain) else
                           f"{domain}: {message}")
    walker = partition.walker
    published, declared_root, companion_drift = await asyncio.gather(
        walker.walk(domain), walker.walk_record(domain, declaration), compare_companions(companions, walker.resolver))
    base = DomainDrift(domain, IN_SYNC, composed, published.record, companions=companion_drift)
    if published.status is Status.TEMPERROR:
        return replace(base, status=UNREACHABLE, error=f"{domain}: {published.message or 'DNS failed'}")
    if published.status.missing:
        return replace(base, status=MISSING, error=None)
    blocks, note = await _compiled_blocks(spec, catalogue, partition, published.record)
    comparison = await compare(domain, str(declaration), declared_root, published, partition.graph,
                               walker.resolver, partition.verdicts, blocks, gate)
    found = replace(base, differences=comparison.differences, record_diff=record_diff(composed, published.record),
                    checked=comparison.checked, note=note)
    if comparison.temperror is not None:
        return replace(found, status=UNREACHABLE, error=f"{domain}: {comparison.temperror}")
    return replace(found, status=_status(found.differences != (), companion_drift),
                   error=_companion_error(domain, companion_drift))


def _status(spf_differs: bool, companions: tuple[CompanionDrift, ...]) -> str:
    if spf_differs or any(c.status in (DIFFERS, MISSING) for c in companions):
        return DIFFERS
    if any(c.status == UNREACHABLE for c in companions):
        return UNREACHABLE
    return IN_SYNC


def _companion_error(domain: str, companions: tuple[CompanionDrift, ...]) -> str | None:
    failed = next((c for c in companions if c.status == UNREACHABLE), None)
    return f"{domain}: {failed.detail}" if failed is not None else None


async def _compiled_blocks(spec: DomainSpec, catalogue: Catalogue, partition: Partition,
                           published: str | None) -> tuple[list[IPNetwork], str | None]:
    """A compiled publication's result may change at any block of its zone, which DNS cannot
    list: the blocks of the zone the declaration compiles to are the boundaries (the same ones
    the compiled self-check proves the zone at). Nothing for a publication that is not compiled."""
    from spfbuild.compiled.check import block_networks
    from spfbuild.flattening import FlattenError, flatten_domain

    if published is None or COMPILED_MARK not in published.lower():
        return [], None
    settings = replace(spec.flatten, mode="macro", self_check=False)
    try:
        flattened = await flatten_domain(replace(spec, flatten=settings), catalogue, partition.walker.resolver,
                                         partition=partition)
    except FlattenError as exc:
        return [], f"the declaration does not compile ({exc}): compared at the ranges' boundaries only"
    assert flattened.compiled is not None
    compiled = flattened.compiled.compiled
    label = compiled.label.lower()
    note = None if label in published.lower() else (
        f"the published zone is not the one the declaration compiles to ({compiled.label}): compared at the "
        "boundaries of the declared zone's blocks and both sides' ranges")
    return block_networks(compiled), note
