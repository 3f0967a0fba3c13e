"""Exact flattening: the composed record's result for every address, rewritten as ip4/ip6
ranges (plus chained records) within the lookup and byte budgets.

Top-level terms are either kept as written (the budget allows it, the config or the provider
asks for it, or the term cannot be flattened: `exists`, `ptr`, macros) or replaced by the
ranges they decide. Kept terms split the record into segments: ranges of one segment never
move across a kept term, except pass ranges across `+` terms, where the result is pass
either way. So every address keeps its result (the self-check verifies it with the evaluator).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from spfbuild.alignment import Advice, advise
from spfbuild.catalogue import Catalogue
from spfbuild.companions import Companion, CompanionError, companions_for
from spfbuild.compose import ComposeError, Composition, compose, declare
from spfbuild.config import DomainSpec
from spfbuild.emit import RecordSet, TxtRecord
from spfbuild.failure import DomainFailure, failure
from spfbuild.intervals import AddressSet, Block, block_span
from spfbuild.layout import HASH_TEMPLATE, NUMBERED_TEMPLATE, Group, Top, chain_name, choose
from spfbuild.mechanisms import DNSResolver
from spfbuild.pack import Packed
from spfbuild.partition import FlattenError, Origin, Partition, pass_set
from spfbuild.toplevel import resolve_top
from spfbuild.tree import Fetched, Walker, asks_own_terms, room_beside, unpublished
from spfbuild.workers import processes_for, spread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from spfbuild.compiled import Publication

# What refuses one domain (its failure is its own; the run goes on).
REFUSALS = (FlattenError, ComposeError, CompanionError)
BUDGET_REASON = "within the lookup budget, so it follows its owner's changes"

# Domains composed between reads of the answers that came in meanwhile (a bulk run's walks of
# what its domains share go on while the rest are composed).
COMPOSED_BETWEEN_READS = 50

T = TypeVar("T")

__all__ = ["FlattenError", "Flattened", "flatten_all", "flatten_domain", "flatten_or_error"]


@dataclass(frozen=True)
class Flattened:
    domain: str
    record_set: RecordSet
    lookups: int
    kept: tuple[str, ...]
    flattened: tuple[str, ...]
    origins: tuple[tuple[str, tuple[str, ...]], ...]  # emitted range -> where it came from
    sources: dict[str, list[str]] = field(compare=False)  # flattened DNS term -> every range it resolved to
    checked: int = 0  # addresses the self-check evaluated
    why_kept: tuple[tuple[str, str], ...] = ()  # each kept term, and why it stays as written
    warnings: tuple[str, ...] = ()  # what composing kept of the existing record against the config
    compiled: Publication | None = field(default=None, compare=False)  # flatten.mode macro: the zone
    alignment: tuple[str, ...] = ()  # senders that cannot pass DMARC through SPF (alignment advice)


async def flatten_domain(
    spec: DomainSpec, catalogue: Catalogue, resolver: DNSResolver, existing: str | None = None,
    *, content_addressed: bool = False, partition: Partition | None = None,
) -> Flattened:
    """Flatten one domain. `content_addressed` names chained records after a hash of their
    content (`_spf-<hash>`), so old and new chains never mix in caches when publishing.
    `partition` (over a walker of the same resolver) shares resolved records and their claims
    with the other domains of the run. The DKIM and DMARC records beside the SPF record, and the
    alignment advice about them, are render's (`spfbuild.rendering.companion_parts`)."""
    partition = partition or Partition(Walker(resolver))
    walked = await _walk(spec, catalogue, existing, content_addressed=content_addressed, partition=partition)
    return await _finish(walked, catalogue, partition)


@dataclass(frozen=True)
class _Composed:
    """A domain's record as composed from the config, before any DNS work."""

    spec: DomainSpec  # with its chained records' name template
    companions: tuple[Companion, ...]
    advice: Advice
    declared: str  # the declaration as written (compose.declare)
    composition: Composition


@dataclass(frozen=True)
class _Walked(_Composed):
    """A domain once its DNS work is done: the rest is computed on the resolved graph."""

    root: Fetched
    published: Fetched | None


async def _walk(spec: DomainSpec, catalogue: Catalogue, existing: str | None, *, content_addressed: bool,
                partition: Partition) -> _Walked:
    """Compose the domain's record and resolve its tree into the partition's graph."""
    composed = _compose(spec, catalogue, existing, content_addressed=content_addressed)
    return await _walk_composed(composed, _root(composed), partition.walker)


def _compose(spec: DomainSpec, catalogue: Catalogue, existing: str | None, *, content_addressed: bool) -> _Composed:
    """The domain's record as the config declares it, and the records beside it. Built before
    any DNS work: a missing DKIM parameter fails the domain at once."""
    companions = companions_for(spec, catalogue)
    advice = advise(spec, catalogue)
    template = spec.flatten.chain_name or (HASH_TEMPLATE if content_addressed else NUMBERED_TEMPLATE)
    if content_addressed and "{hash}" not in template:
        raise FlattenError(
            f"{spec.domain}: publishing needs content-addressed chained names: flatten.chain_name must contain "
            "{hash}, e.g. '_spf-{hash}'"
        )
    spec = replace(spec, flatten=replace(spec.flatten, chain_name=template))
    declaration = declare(spec, catalogue, existing)
    composition = compose(spec, catalogue, existing, declared=declaration)
    return _Composed(spec, companions, advice, str(declaration.record), composition)


def _root(composed: _Composed) -> Fetched:
    """The composed record as a root node of the graph (not added by name: DNS may hold another)."""
    return unpublished(composed.spec.domain, composed.composition.record)


async def _walk_composed(composed: _Composed, root: Fetched, walker: Walker) -> _Walked:
    """`composed`'s tree below `root` (`_root`) resolved into the walker's graph."""
    spec = composed.spec
    # The other TXT records at the name are asked alongside the senders' trees, not one round trip
    # after. Neither raises for anything DNS says: what follows is computed on the resolved graph.
    root, published = await asyncio.gather(walker.walk_root(root), _published(spec, walker))
    return _Walked(spec, composed.companions, composed.advice, composed.declared, composed.composition, root,
                   published)


async def _finish(walked: _Walked, catalogue: Catalogue, partition: Partition) -> Flattened:
    """The flattening of a walked domain, with the records beside it and the advice."""
    result = await _flatten_records(walked, catalogue, partition)
    return replace(result, record_set=replace(result.record_set, companions=walked.companions),
                   warnings=(*result.warnings, *walked.advice.warnings), alignment=walked.advice.notes)


async def _flatten_records(walked: _Walked, catalogue: Catalogue, partition: Partition) -> Flattened:
    """The SPF records of `flatten_domain`: the main record and its chained (or compiled) ones."""
    spec, composition, root = walked.spec, walked.composition, walked.root
    top = resolve_top(spec, composition.terms, root, partition, catalogue)
    main_budget = _main_budget(spec, walked.published)
    # The self-check compares with the declaration as written (compose.declare), so that a
    # rewrite in composing cannot hide from it.
    declared = walked.declared if spec.flatten.self_check else None
    warnings = composition.warnings + top.warnings
    if spec.flatten.mode != "ranges":  # macro, or auto: macro when ranges do not fit
        from spfbuild.compiled import compile_domain

        compiled = functools.partial(compile_domain, spec, top, root, partition, main_budget, declared=declared)
        if spec.flatten.mode == "macro":
            return _compiled(spec, top, await compiled(), warnings)
        try:
            kept, layout = choose(top, spec, main_budget)
        except FlattenError as exc:
            return _compiled(spec, top, await compiled(instead_of=str(exc)), warnings)
    else:
        kept, layout = choose(top, spec, main_budget)
    record_set = _record_set(spec, layout.packed)
    checked = 0
    if declared is not None:
        from spfbuild.selfcheck import self_check

        checked = await self_check(root, partition.graph, record_set, partition.walker.resolver, layout.samples,
                                   partition.verdicts, declared)
    terms, why_kept, flattened = _kept_terms(top, kept)
    return Flattened(
        domain=spec.domain,
        record_set=record_set,
        lookups=layout.lookups,
        kept=terms,
        why_kept=why_kept,
        flattened=flattened,
        origins=_origins(layout.groups),
        sources=_source_ranges(top, kept),
        checked=checked,
        warnings=warnings,
    )


def _compiled(spec: DomainSpec, top: Top, publication: Publication, warnings: tuple[str, ...]) -> Flattened:
    """The flattening of a macro-compiled domain (`flatten.mode` macro or auto)."""
    kept = set(publication.kept)
    terms, why_kept, flattened = _kept_terms(top, kept)
    return Flattened(
        domain=spec.domain,
        record_set=publication.record_set,
        lookups=publication.lookups,
        kept=terms,
        why_kept=why_kept,
        flattened=flattened,
        origins=(),
        sources=_source_ranges(top, kept),
        checked=publication.checked_addresses,
        warnings=warnings,
        compiled=publication,
    )


def _kept_terms(top: Top, kept: set[int]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The terms kept as written, each with why, and the DNS terms flattened, in record order."""
    order = sorted(kept)
    return (tuple(str(top.mechanisms[i]) for i in order),
            tuple((str(top.mechanisms[i]), top.forced.get(i, BUDGET_REASON)) for i in order),
            tuple(str(m) for i, m in enumerate(top.mechanisms) if i not in kept and m.queries_dns))


async def flatten_or_error(
    spec: DomainSpec, catalogue: Catalogue, resolver: DNSResolver, *, content_addressed: bool = False,
    partition: Partition | None = None,
) -> Flattened | DomainFailure:
    """`flatten_domain`, with a failure as a value naming the domain and its kind (multi-domain
    runs go on past one domain's failure)."""
    return await _or_failure(spec.domain, flatten_domain(spec, catalogue, resolver, content_addressed=content_addressed,
                                                         partition=partition))


async def flatten_all(
    specs: Sequence[DomainSpec], catalogue: Catalogue, resolver: DNSResolver, *, content_addressed: bool = False,
    on_done: Callable[[], None] | None = None, jobs: int = 1,
) -> list[Flattened | DomainFailure]:
    """`flatten_or_error` for every domain at once, in order, over one shared graph: a provider
    that several domains use is resolved once. `on_done` is called as each domain finishes
    (a progress line). With `jobs` other than 1 (0: one per core), a run of many domains
    resolves here what its domains share, then shares out each domain's own walk and its
    computing among that many processes (spfbuild.workers): the results are the same."""
    partition = Partition(Walker(resolver))
    processes = processes_for(len(specs), jobs)

    def done(count: int = 1) -> None:
        if on_done is not None:
            for _ in range(count):
                on_done()

    if processes == 1:
        async def one(spec: DomainSpec) -> Flattened | DomainFailure:
            result = await flatten_or_error(spec, catalogue, resolver, content_addressed=content_addressed,
                                            partition=partition)
            done()
            return result

        return list(await asyncio.gather(*(one(spec) for spec in specs)))
    return await _flatten_in_processes(specs, catalogue, partition, processes, done,
                                       content_addressed=content_addressed)


async def _flatten_in_processes(
    specs: Sequence[DomainSpec], catalogue: Catalogue, partition: Partition, processes: int,
    done: Callable[[int], None], *, content_addressed: bool,
) -> list[Flattened | DomainFailure]:
    """`flatten_all` with every domain composed here and what the domains share resolved here
    (each provider's tree, once), then each domain walked and finished in one of `processes`
    forked processes, which inherit the graph and the resolver's answers: a process asks only
    its own domains' names, and the domains' walks, mostly on that inherited graph, are shared
    out with their computing."""
    walker = partition.walker
    composed: list[_Composed | DomainFailure] = []
    roots: list[Fetched] = []  # made once, inherited: what they evaluate is worked out once
    exploring: set[asyncio.Task[None]] = set()
    for count, spec in enumerate(specs, 1):
        item = _or_failure_now(spec.domain, functools.partial(_compose, spec, catalogue, None,
                                                               content_addressed=content_addressed))
        composed.append(item)
        if isinstance(item, _Composed):
            roots.append(_root(item))
            exploring.add(walker.explore_below(roots[-1]))
        if count % COMPOSED_BETWEEN_READS == 0:
            await asyncio.sleep(0)  # the answers come in while the other domains are composed
    ready = [c for c in composed if isinstance(c, _Composed)]
    done(len(composed) - len(ready))
    await asyncio.gather(*exploring)
    asking = [asks_own_terms(root) for root in roots]
    # A record's own a, mx and exists may name what other domains' do (a relay all clients
    # share): those domains are walked here, so that no question is asked twice.
    own = iter(await asyncio.gather(*(_walk_composed(c, root, walker)
                                      for c, root, asks in zip(ready, roots, asking, strict=True) if asks)))
    walked = [next(own) if asks else None for asks in asking]

    async def finish(share: Sequence[int]) -> list[Flattened | DomainFailure]:
        return list(await asyncio.gather(*(_walk_and_finish(ready[i], roots[i], walked[i], catalogue, partition)
                                           for i in share)))

    # The resolver's record of the questions sent, when it keeps one: the processes' come back to it.
    asked = getattr(partition.walker.resolver, "queries", None)
    finished = iter(await spread(len(ready), finish, processes, done, asked))
    return [next(finished) if isinstance(c, _Composed) else c for c in composed]


async def _walk_and_finish(composed: _Composed, root: Fetched, walked: _Walked | None, catalogue: Catalogue,
                           partition: Partition) -> Flattened | DomainFailure:
    """The domain flattened from its walk, made now unless given."""
    async def work() -> Flattened:
        return await _finish(walked or await _walk_composed(composed, root, partition.walker), catalogue, partition)

    return await _or_failure(composed.spec.domain, work())


def _or_failure_now(domain: str, work: Callable[[], T]) -> T | DomainFailure:
    """What `work()` gives, or its refusal as a value naming the domain."""
    try:
        return work()
    except REFUSALS as exc:
        return failure(domain, str(exc))


async def _or_failure(domain: str, work: Awaitable[T]) -> T | DomainFailure:
    """What `work` gives, or its refusal as a value naming the domain."""
    try:
        return await work
    except REFUSALS as exc:
        return failure(domain, str(exc))


async def _published(spec: DomainSpec, walker: Walker) -> Fetched | None:
    """What the domain publishes now, for the byte budget; not asked when `reserve_bytes` is set."""
    return None if spec.flatten.reserve_bytes is not None else await walker.record(spec.domain)


def _main_budget(spec: DomainSpec, published: Fetched | None) -> int:
    """The main record's byte budget, leaving room for the other TXT records at the name that
    share its answer (site verifications): measured unless `reserve_bytes` is set."""
    settings = spec.flatten
    if settings.reserve_bytes is not None or published is None:
        budget = settings.max_record_bytes - (settings.reserve_bytes or 0)
    else:
        budget = min(settings.max_record_bytes, room_beside(spec.domain, published.others))
    if budget < 64:
        raise FlattenError(
            f"{spec.domain}: only {budget} bytes are left for the SPF record beside the other TXT records"
        )
    return budget


def _source_ranges(top: Top, kept: set[int]) -> dict[str, list[str]]:
    """What each flattened DNS term resolved to, for change reports and shrink guards."""
    out: dict[str, list[str]] = {}
    for i, mech in enumerate(top.mechanisms):
        term_set = top.sets[i]
        if mech.queries_dns and i not in kept and term_set is not None:
            out[str(mech)] = list(_networks(term_set.addresses))
    if top.redirect is not None and top.redirect_claims is not None:
        passing = pass_set(top.redirect_claims).addresses
        out[str(top.redirect)] = list(_networks(passing))
    return out


@functools.lru_cache(maxsize=1024)
def _networks(addresses: AddressSet) -> tuple[str, ...]:
    """A set's CIDR blocks as text; once per run for a provider's pass set, which every domain
    that flattens the provider shares."""
    return tuple(str(b) for b in addresses.blocks)


def _origins(groups: list[Group]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each emitted pass range with its contributing term and the DNS names that list it: only for
    the chosen layout (trial layouts need none)."""
    origins: list[tuple[str, tuple[str, ...]]] = []
    for group in groups:
        spans = tuple((lo, hi, _describe(o)) for (lo, hi), o in group.origins)
        origins += [(term, (group.label, *names)) for term, names in _block_sources(group.blocks, spans)]
    return tuple(origins)


@functools.lru_cache(maxsize=1024)
def _block_sources(blocks: tuple[Block, ...], spans: tuple[tuple[int, int, str], ...]
                   ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each block's term with the names of the spans it meets, sorted: once per run for the
    ranges of a provider that many domains flatten alike (a provider's origins are described
    without the including domain)."""
    out = []
    for block in blocks:
        first, last = block_span(block)
        out.append((block.term(), tuple(sorted({d for lo, hi, d in spans if lo <= last and first <= hi}))))
    return tuple(out)


def _describe(origin: Origin) -> str:
    """The records on the way to a range, or the name it is listed by for the record's own."""
    return " > ".join(origin.path) if origin.path else origin.name


def _record_set(spec: DomainSpec, packed: Packed) -> RecordSet:
    chains = [
        TxtRecord(chain_name(spec, n, text), text, spec.ttl) for n, text in enumerate(packed.chain_texts(), 1)
    ]
    renames = {
        f"include:{chain_name(spec, n)}": f"include:{chain.name}" for n, chain in enumerate(chains, 1)
    }

    def renamed(term: str) -> str:  # a chained record's include may carry a qualifier (-include:...)
        qualifier = term[0] if term[:1] in ("-", "~", "?") else ""
        return qualifier + renames.get(term[len(qualifier):], term[len(qualifier):])

    main = TxtRecord(spec.domain, " ".join(renamed(t) for t in packed.main_text().split(" ")), spec.ttl)
    return RecordSet(spec.domain, (main, *chains))


