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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import netaddr

from spfbuild.catalogue import Catalogue
from spfbuild.compose import Composed, compose, keep_reason
from spfbuild.config import DomainSpec
from spfbuild.emit import RecordSet, TxtRecord
from spfbuild.mechanisms import DNSResolver
from spfbuild.pack import Packed, PackError, pack
from spfbuild.partition import (
    FULL,
    Claim,
    Failure,
    FlattenError,
    Opaque,
    Origin,
    Partition,
    TermSet,
    classes,
    pass_set,
)
from spfbuild.record import Mechanism, Modifier, Qualifier
from spfbuild.tree import Answered, Fetched, Graph, TermLookup, Walker, room_beside

TYPE_CHECKING = False
if TYPE_CHECKING:
    from spfbuild.compiled import Publication

NUMBERED_TEMPLATE = "_spf{n}"
HASH_TEMPLATE = "_spf-{hash}"
HASH_LENGTH = 10
_QUALIFIER_OF = {q.result: q for q in Qualifier}
OPAQUE_REASON = "its result depends on the client or on DNS at evaluation time (exists, ptr or macros)"
BUDGET_REASON = "within the lookup budget, so it follows its owner's changes"

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


@dataclass
class _Top:
    """What the composed record's terms resolved to."""

    composed: list[Composed]
    mechanisms: list[Mechanism]
    sets: list[TermSet | None]  # None: cannot be flattened
    costs: list[int]
    forced: dict[int, str]  # terms kept whatever the budget, and why
    redirect: Modifier | None
    redirect_claims: list[Claim] | None  # None: redirect kept (or absent)
    redirect_cost: int
    tail: list[str]  # modifiers kept as written (exp, unknown)


async def flatten_domain(
    spec: DomainSpec, catalogue: Catalogue, resolver: DNSResolver, existing: str | None = None,
    *, content_addressed: bool = False, partition: Partition | None = None,
) -> Flattened:
    """Flatten one domain. `content_addressed` names chained records after a hash of their
    content (`_spf-<hash>`), so old and new chains never mix in caches when publishing.
    `partition` (over a walker of the same resolver) shares resolved records and their claims
    with the other domains of the run."""
    template = spec.flatten.chain_name or (HASH_TEMPLATE if content_addressed else NUMBERED_TEMPLATE)
    if content_addressed and "{hash}" not in template:
        raise FlattenError(
            f"{spec.domain}: publishing needs content-addressed chained names: flatten.chain_name must contain "
            "{hash}, e.g. '_spf-{hash}'"
        )
    spec = replace(spec, flatten=replace(spec.flatten, chain_name=template))
    composition = compose(spec, catalogue, existing)
    partition = partition or Partition(Walker(resolver))
    walker = partition.walker
    # The other TXT records at the name are asked alongside the senders' trees, not one round trip
    # after. Neither raises for anything DNS says: what follows is computed on the resolved graph.
    root, published = await asyncio.gather(walker.walk_record(spec.domain, composition.record),
                                           _published(spec, walker))
    top = _resolve_top(spec, composition.terms, root, partition, catalogue)
    main_budget = _main_budget(spec, published)
    if spec.flatten.mode != "ranges":  # macro, or auto: macro when ranges do not fit
        from spfbuild.compiled import compile_domain

        if spec.flatten.mode == "macro":
            return await compile_domain(spec, top, root, partition, main_budget)
        try:
            kept, layout = _choose(top, spec, main_budget)
        except FlattenError as exc:
            return await compile_domain(spec, top, root, partition, main_budget, instead_of=str(exc))
    else:
        kept, layout = _choose(top, spec, main_budget)
    record_set = _record_set(spec, layout.packed)
    checked = 0
    if spec.flatten.self_check:
        from spfbuild.selfcheck import self_check

        checked = await self_check(root, partition.graph, record_set, walker.resolver, layout.samples)
    return Flattened(
        domain=spec.domain,
        record_set=record_set,
        lookups=layout.lookups,
        kept=tuple(str(top.mechanisms[i]) for i in sorted(kept)),
        why_kept=tuple((str(top.mechanisms[i]), top.forced.get(i, BUDGET_REASON)) for i in sorted(kept)),
        flattened=tuple(str(m) for i, m in enumerate(top.mechanisms) if i not in kept and m.queries_dns),
        origins=_origins(layout.groups),
        sources=_source_ranges(top, kept),
        checked=checked,
        warnings=composition.warnings,
    )


async def flatten_or_error(
    spec: DomainSpec, catalogue: Catalogue, resolver: DNSResolver, *, content_addressed: bool = False,
    partition: Partition | None = None,
) -> Flattened | str:
    """`flatten_domain`, with a failure as its one-line message naming the domain (multi-domain
    runs go on past one domain's failure)."""
    from spfbuild.compose import ComposeError

    try:
        return await flatten_domain(spec, catalogue, resolver, content_addressed=content_addressed,
                                    partition=partition)
    except (FlattenError, ComposeError) as exc:
        message = str(exc)
        return message if message.startswith(f"{spec.domain}:") else f"{spec.domain}: {message}"


async def flatten_all(
    specs: Sequence[DomainSpec], catalogue: Catalogue, resolver: DNSResolver, *, content_addressed: bool = False
) -> list[Flattened | str]:
    """`flatten_or_error` for every domain at once, in order, over one shared graph: a provider
    that several domains use is resolved once."""
    partition = Partition(Walker(resolver))
    return list(await asyncio.gather(*(
        flatten_or_error(spec, catalogue, resolver, content_addressed=content_addressed, partition=partition)
        for spec in specs
    )))


def _resolve_top(
    spec: DomainSpec, terms: tuple[Composed, ...], root: Fetched, partition: Partition, catalogue: Catalogue
) -> _Top:
    """What the composed record's evaluated terms resolve to. Refusals, in this order: an include
    loop; the first term that cannot be flattened for a DNS error or a broken record; the first
    broken record anywhere in the tree (kept terms included: a receiver would meet it); the
    redirect's tree."""
    graph = partition.graph
    loop = graph.cycle(root)
    if loop is not None:
        raise FlattenError(f"include loop: {' -> '.join(loop)}")
    mechanisms = [c.term for c in terms if isinstance(c.term, Mechanism)]
    composed = [c for c in terms if isinstance(c.term, Mechanism)]
    cut = next((i for i, m in enumerate(mechanisms) if m.kind == "all"), None)
    if cut is not None:
        mechanisms, composed = mechanisms[: cut + 1], composed[: cut + 1]
    answers = [answer for _, answer in root.evaluated]
    found = [partition.term_set(root, m, a) for m, a in zip(mechanisms, answers, strict=False)]
    failure = next((f for f in found if isinstance(f, Failure)), None)
    if failure is not None:
        raise FlattenError(failure.message)
    problem = partition.problem(root)
    if problem is not None:
        raise FlattenError(problem)
    sets = [f if isinstance(f, TermSet) else None for f in found]
    costs = [_cost(graph, a) for a in answers[: len(mechanisms)]]
    # A reason the config or the catalogue gives wins over the one found in DNS.
    reasons = {i: OPAQUE_REASON for i, s in enumerate(sets) if s is None}
    reasons |= {i: why for i, c in enumerate(composed) if (why := keep_reason(c, spec.flatten.keep, catalogue))}
    modifiers = [c.term for c in terms if isinstance(c.term, Modifier)]
    redirect = next((m for m in modifiers if m.name == "redirect"), None) if cut is None else None
    redirect_claims: list[Claim] | None = None
    redirect_cost = 0
    if redirect is not None:
        answer = answers[-1]
        redirect_cost = _cost(graph, answer)
        below = partition.step(root, redirect, answer)
        if isinstance(below, Failure):
            raise FlattenError(below.message)
        redirect_claims = None if isinstance(below, Opaque) else below
    tail = [str(m) for m in modifiers if m.name != "redirect"]
    return _Top(list(composed), mechanisms, sets, costs, reasons, redirect, redirect_claims, redirect_cost, tail)


def _cost(graph: Graph, answer: Answered | None) -> int:
    """The lookups one top-level term costs receivers, over its whole tree (RFC 7208 4.6.4)."""
    if answer is None:
        return 0
    if isinstance(answer, TermLookup) or answer.followed is None:
        return 1
    child = graph.node(answer.followed)
    assert child is not None  # an unresolved target was refused before
    return 1 + graph.cost(child).lookups


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


@dataclass
class _Layout:
    packed: Packed
    lookups: int
    groups: list[_Group]
    samples: list[netaddr.IPSet]


def _choose(top: _Top, spec: DomainSpec, main_budget: int) -> tuple[set[int], _Layout]:
    """Keep as many DNS terms unflattened as the lookup budget allows (they follow their
    provider's changes); flatten first those that save the most lookups per byte. The kept
    terms, and their layout."""
    kept = set(top.forced)
    budget = spec.flatten.max_lookups
    layout = _layout(top, kept, spec, main_budget)
    if layout.lookups > budget:
        names = ", ".join(str(top.mechanisms[i]) for i in sorted(kept)) or "none"
        raise FlattenError(
            f"{spec.domain}: {layout.lookups} DNS lookups even with everything flattenable flattened, over "
            f"the budget of {budget} (kept: {names})"
        )
    candidates = [i for i, m in enumerate(top.mechanisms) if m.queries_dns and i not in kept]
    candidates.sort(key=lambda i: (top.costs[i] / max(1, _bytes(top.sets[i])), i))
    for index in candidates:
        if _lookups_before_chains(top, kept | {index}) > budget:
            continue  # over the budget whatever the chained records: no layout needed to know
        try:
            trial = _layout(top, kept | {index}, spec, main_budget)
        except FlattenError:
            continue
        if trial.lookups <= budget:
            kept.add(index)
            layout = trial
    return kept, layout


def _lookups_before_chains(top: _Top, kept: set[int]) -> int:
    """The lookups of the kept and unflattenable terms and a kept redirect: a layout's count
    without its chained records' includes."""
    lookups = sum(top.costs[i] for i in range(len(top.mechanisms)) if i in kept or top.sets[i] is None)
    if top.redirect is not None and top.redirect_claims is None:
        lookups += top.redirect_cost
    return lookups


def _bytes(term_set: TermSet | None) -> int:
    if term_set is None:
        return 0
    return sum(len(_range_term(n)) + 1 for n in term_set.addresses.iter_cidrs())


def _layout(top: _Top, kept: set[int], spec: DomainSpec, main_budget: int) -> _Layout:
    decided = netaddr.IPSet()  # addresses an earlier segment already gives a result
    after: list[str] = []
    pools: list[tuple[int, netaddr.IPSet]] = []  # (segment start, pass addresses) movable to the front
    movable = True
    start = 0
    current: list[Claim] = []
    samples: list[netaddr.IPSet] = []
    for i, mech in enumerate(top.mechanisms):
        term_set = top.sets[i]
        if i in kept or term_set is None:
            found, decided = classes(current, decided)
            movable = _emit_segment(found, None, movable, start, pools, after)
            samples += found.values()
            after.append(str(mech))
            movable = movable and mech.qualifier is Qualifier.PASS
            current, start = [], i + 1
            continue
        current.append(Claim(mech.qualifier.result, term_set.addresses, term_set.origins))
    default = _default(top, current)
    if top.redirect_claims is not None:
        current += top.redirect_claims
    found, decided = classes(current, decided, skip=default)  # the default's addresses need no ranges
    samples += found.values()
    _emit_segment(found, default, movable, start, pools, after)
    if default is not None and _has_full_claim(current):
        after.append(str(Mechanism("all", _QUALIFIER_OF[default])))
    if top.redirect is not None and top.redirect_claims is None:
        after.append(str(top.redirect))
    after += top.tail
    groups = _groups(top, pools)
    try:
        packed = pack([g.terms for g in groups], [], after, main_budget, spec.flatten.max_record_bytes,
                      lambda n: _chain_name(spec, n))
    except PackError as exc:
        raise FlattenError(f"{spec.domain}: {exc}") from None
    return _Layout(packed, _lookups_before_chains(top, kept) + len(packed.chains), groups, samples)


def _source_ranges(top: _Top, kept: set[int]) -> dict[str, list[str]]:
    """What each flattened DNS term resolved to, for change reports and shrink guards."""
    out: dict[str, list[str]] = {}
    for i, mech in enumerate(top.mechanisms):
        term_set = top.sets[i]
        if mech.queries_dns and i not in kept and term_set is not None:
            out[str(mech)] = [str(n) for n in _sorted_cidrs(term_set.addresses)]
    if top.redirect is not None and top.redirect_claims is not None:
        passing = pass_set(top.redirect_claims).addresses
        out[str(top.redirect)] = [str(n) for n in _sorted_cidrs(passing)]
    return out


def _default(top: _Top, claims: list[Claim]) -> str | None:
    """The result of addresses no emitted range decides: the `all` qualifier (or the redirect
    target's), neutral without one, unknown when a kept redirect decides."""
    if top.redirect is not None and top.redirect_claims is None:
        return None
    for claim in [*claims, *(top.redirect_claims or [])]:
        if claim.addresses == FULL:
            return claim.result
    return "neutral"


def _has_full_claim(claims: list[Claim]) -> bool:
    return any(c.addresses == FULL for c in claims)


def _emit_segment(
    found: dict[str, netaddr.IPSet], default: str | None, movable: bool, start: int,
    pools: list[tuple[int, netaddr.IPSet]], after: list[str],
) -> bool:
    for result in ("fail", "softfail", "neutral", "pass"):
        addresses = found.get(result)
        if not addresses or result == default:
            continue
        if result == "pass" and movable:
            pools.append((start, addresses))
            continue
        prefix = "" if result == "pass" else _QUALIFIER_OF[result].value
        after.extend(prefix + _range_term(n) for n in _sorted_cidrs(addresses))
    return movable


@dataclass(frozen=True)
class _Group:
    """The pass ranges one top-level term contributes (in record order), and where they came from."""

    label: str
    cidrs: list[netaddr.IPNetwork]
    origins: list[tuple[netaddr.IPNetwork, Origin]]

    @property
    def terms(self) -> list[str]:
        return [_range_term(n) for n in self.cidrs]


def _groups(top: _Top, pools: list[tuple[int, netaddr.IPSet]]) -> list[_Group]:
    """Pass ranges grouped by the top-level term that contributes them, in record order."""
    pool = netaddr.IPSet()
    for _, addresses in pools:
        pool |= addresses
    groups: list[_Group] = []
    contributors: list[tuple[str, TermSet]] = [
        (_label(top.composed[i]), s) for i, s in enumerate(top.sets) if s is not None
    ]
    if top.redirect is not None and top.redirect_claims is not None:
        claims = top.redirect_claims
        redirect_set = netaddr.IPSet()
        for claim in claims:
            redirect_set |= claim.addresses
        contributors.append((f"redirect={top.redirect.value}", TermSet(redirect_set, [o for c in claims
                                                                                      for o in c.origins])))
    for label, term_set in contributors:
        mine = pool & term_set.addresses
        if not mine:
            continue
        pool = pool - mine
        groups.append(_Group(label, _sorted_cidrs(mine), term_set.origins))
    return groups


def _origins(groups: list[_Group]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each emitted pass range with its contributing term and the DNS names that list it: only for
    the chosen layout (trial layouts need none)."""
    origins: list[tuple[str, tuple[str, ...]]] = []
    for group in groups:
        # CIDR blocks overlap exactly when one holds the other: compared as integer intervals.
        spans = [(n.version, n.first, n.last, _describe(o)) for n, o in group.origins]
        for net in group.cidrs:
            version, first, last = net.version, net.first, net.last
            names = sorted({d for v, lo, hi, d in spans if v == version and lo <= last and first <= hi})
            origins.append((_range_term(net), (group.label, *names)))
    return tuple(origins)


def _label(item: Composed) -> str:
    source = item.sources[0] if item.sources else None
    return source.label if source else str(item.term)


def _describe(origin: Origin) -> str:
    return " > ".join(origin.path[1:]) if len(origin.path) > 1 else origin.name


def _sorted_cidrs(addresses: netaddr.IPSet) -> list[netaddr.IPNetwork]:
    return sorted(addresses.iter_cidrs(), key=lambda n: (n.version, n.first, n.prefixlen))


def _range_term(net: netaddr.IPNetwork) -> str:
    kind = "ip4" if net.version == 4 else "ip6"
    if net.prefixlen == (32 if net.version == 4 else 128):
        return f"{kind}:{net.ip}"
    return f"{kind}:{net}"


def _chain_name(spec: DomainSpec, n: int, content: str | None = None) -> str:
    """The chained record's name; while packing (no content yet) a placeholder hash of the
    final length stands in, unique per record."""
    import hashlib

    template = spec.flatten.chain_name or NUMBERED_TEMPLATE
    digest = hashlib.sha256(content.encode()).hexdigest()[:HASH_LENGTH] if content else f"{n:0{HASH_LENGTH}d}"
    return f"{template.format(n=n, hash=digest)}.{spec.domain}"


def _record_set(spec: DomainSpec, packed: Packed) -> RecordSet:
    chains = [
        TxtRecord(_chain_name(spec, n, text), text, spec.ttl) for n, text in enumerate(packed.chain_texts(), 1)
    ]
    renames = {
        f"include:{_chain_name(spec, n)}": f"include:{chain.name}" for n, chain in enumerate(chains, 1)
    }
    main = TxtRecord(spec.domain, " ".join(renames.get(t, t) for t in packed.main_text().split(" ")), spec.ttl)
    return RecordSet(spec.domain, (main, *chains))


