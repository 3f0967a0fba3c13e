"""Choosing which terms to keep as written, and laying out the records for a choice.

The search starts from the declared record as it stands (every DNS term kept) and flattens
only as much as the budgets need: the lookup budget (`flatten.max_lookups`) and the RFC's two
void lookups, which kept terms spend too (an `a:` of a name without addresses). Terms are
flattened first where that saves the most lookups per byte of ranges (void lookups first when
those are over), until a layout fits; then each flattened term is tried kept again, in case a
later choice left room. Each layout packs stably first (one sender's ranges in one chained
record, so a change rewrites few records) and densely when the stable packing needs more
lookups than the budget allows: fitting wins over stability. Everything is deterministic.

Kept terms split the record into segments: ranges of one segment never move across a kept
term, except pass ranges across `+` terms, where the result is pass either way.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

from spfbuild.compose import Composed
from spfbuild.config import DomainSpec
from spfbuild.encoding import chained_terms
from spfbuild.intervals import EMPTY, AddressSet, Block
from spfbuild.limits import MAX_VOID_LOOKUPS
from spfbuild.pack import MAX_CHAINS, Packed, PackError, pack, pack_offloading, size
from spfbuild.partition import FULL, Claim, FlattenError, Origin, Span, TermSet, classes
from spfbuild.record import Mechanism, Modifier, Qualifier

NUMBERED_TEMPLATE = "_spf{n}"
HASH_TEMPLATE = "_spf-{hash}"
HASH_LENGTH = 10
_QUALIFIER_OF = {q.result: q for q in Qualifier}

__all__ = ["HASH_TEMPLATE", "Group", "Layout", "Top", "chain_name", "choose", "label", "layout"]


@dataclass
class Top:
    """What the composed record's terms resolved to."""

    composed: list[Composed]
    mechanisms: list[Mechanism]
    sets: list[TermSet | None]  # None: cannot be flattened
    costs: list[int]  # lookups of each term over its tree
    voids: list[tuple[int, int]]  # void lookups of each term over its tree, for IPv4 and IPv6 clients
    forced: dict[int, str]  # terms kept whatever the budget, and why
    redirect: Modifier | None
    redirect_claims: list[Claim] | None  # None: redirect kept (or absent)
    redirect_cost: int
    redirect_voids: tuple[int, int]
    tail: list[str]  # modifiers kept as written (exp, unknown)
    safe: list[bool]  # the term only matches or not, never ends the evaluation with an error
    literal: frozenset[int] = frozenset()  # kept terms that must stay in the published record's own text
    warnings: tuple[str, ...] = ()  # kept terms whose trees are broken for every receiver


def choose(top: Top, spec: DomainSpec, main_budget: int) -> tuple[set[int], Layout]:
    """The kept terms, and their layout (see the module's docstring); FlattenError when even
    everything flattenable flattened does not fit."""
    budget = spec.flatten.max_lookups
    candidates = [i for i, m in enumerate(top.mechanisms)
                  if m.queries_dns and top.sets[i] is not None and i not in top.forced]
    kept = set(top.forced) | set(candidates)  # the declared record as it stands
    flattened: list[int] = []
    found: Layout | None = None
    fits = _Fits(top, spec, main_budget, budget)
    sizes = {i: _bytes(top.sets[i]) for i in candidates}  # the ranges' bytes, the same every round
    while True:
        found = fits(kept)
        if found is not None:
            break
        left = [i for i in candidates if i in kept]
        if not left:
            break
        voiding = _voids_over(top, kept)
        pick = min(left, key=lambda i: _flatten_first(top, i, voiding, sizes[i]))
        kept.discard(pick)
        flattened.append(pick)
    if found is None:
        last = _best_effort(top, kept, spec, main_budget)
        names = ", ".join(str(top.mechanisms[i]) for i in sorted(kept)) or "none"
        if last is not None and last.lookups > budget:
            raise FlattenError(
                f"{spec.domain}: {last.lookups} DNS lookups even with everything flattenable flattened, over "
                f"the budget of {budget} (kept: {names})"
            )
        voids = _void_count(top, kept)
        if voids > MAX_VOID_LOOKUPS:
            raise FlattenError(
                f"{spec.domain}: {voids} void DNS lookups even with everything flattenable flattened, over "
                f"the limit of {MAX_VOID_LOOKUPS} (kept: {names})"
            )
        # The layout itself failed (the byte budget): its message says why.
        layout(top, kept, spec, main_budget)
        raise AssertionError("unreachable: a layout within the budgets was refused")
    # A term flattened early may fit kept now that later ones are flattened.
    for index in reversed(flattened):
        trial_kept = kept | {index}
        trial = fits(trial_kept)
        if trial is not None:
            kept, found = trial_kept, trial
    return kept, found


class _Fits:
    """The layout of a set of kept terms within the budgets, or None, each set laid out once
    (the search comes back to sets it has tried)."""

    def __init__(self, top: Top, spec: DomainSpec, main_budget: int, budget: int) -> None:
        self._top, self._spec, self._main_budget, self._budget = top, spec, main_budget, budget
        self._tried: dict[frozenset[int], Layout | None] = {}

    def __call__(self, kept: set[int]) -> Layout | None:
        key = frozenset(kept)
        if key not in self._tried:
            top = self._top
            room = self._budget - lookups_before_chains(top, kept)  # the lookups left for chained records
            within = room >= 0 and not _voids_over(top, kept)
            self._tried[key] = _fit(top, kept, self._spec, self._main_budget, self._budget, room) if within else None
        return self._tried[key]


def _fit(top: Top, kept: set[int], spec: DomainSpec, main_budget: int, budget: int, room: int) -> Layout | None:
    """The stable layout of `kept` if it is within the lookup budget, else the dense one if it
    is; None when neither is (or neither fits the bytes). `room`: the lookups the budget leaves
    for chained records."""
    plan = _plan(top, kept)  # the same terms for every packing
    exact = _groups(top, plan.pools)  # the same ranges for every packing, written compactly last
    # Stable first; dense when stable needs more chained records than the budget allows; and
    # compact terms only when even dense does not fit, so records that fit stay as they were.
    for dense, compact in ((False, False), (True, False), (True, True)):
        try:
            found = _packed(top, kept, plan, spec, main_budget, dense=dense, compact=compact, groups=exact,
                            max_chains=room)
        except FlattenError:
            continue
        if found.lookups <= budget:
            return found
    return None


def _best_effort(top: Top, kept: set[int], spec: DomainSpec, main_budget: int) -> Layout | None:
    """The densest layout of `kept` that fits the bytes, for the refusal's message."""
    try:
        return layout(top, kept, spec, main_budget, dense=True, compact=True)
    except FlattenError:
        return None


def _flatten_first(top: Top, index: int, voids_over: bool, size: int) -> tuple[int, float, int]:
    """Order of flattening: terms with void lookups first while those are over the limit
    (`voids_over`), then the most lookups saved per byte of ranges (`size`); the record's order
    breaks ties."""
    voiding = voids_over and max(top.voids[index]) > 0
    return (0 if voiding else 1, -top.costs[index] / max(1, size), index)


def lookups_before_chains(top: Top, kept: set[int]) -> int:
    """The lookups of the kept and unflattenable terms and a kept redirect: a layout's count
    without its chained records' includes."""
    lookups = sum(top.costs[i] for i in range(len(top.mechanisms)) if i in kept or top.sets[i] is None)
    if top.redirect is not None and top.redirect_claims is None:
        lookups += top.redirect_cost
    return lookups


def _void_count(top: Top, kept: set[int]) -> int:
    """The void lookups a receiver counts over the kept terms, for the worse address family
    (chained records' includes are never void)."""
    counted = [top.voids[i] for i in range(len(top.mechanisms)) if i in kept or top.sets[i] is None]
    if top.redirect is not None and top.redirect_claims is None:
        counted.append(top.redirect_voids)
    return max(sum(v4 for v4, _ in counted), sum(v6 for _, v6 in counted))


def _voids_over(top: Top, kept: set[int]) -> bool:
    return _void_count(top, kept) > MAX_VOID_LOOKUPS


@dataclass
class Layout:
    packed: Packed
    lookups: int
    groups: list[Group]
    samples: list[AddressSet]


def _bytes(term_set: TermSet | None) -> int:
    if term_set is None:
        return 0
    return sum(len(b.term()) + 1 for b in term_set.addresses.blocks)


def layout(top: Top, kept: set[int], spec: DomainSpec, main_budget: int, *, dense: bool = False,
           compact: bool = False) -> Layout:
    """The records for `kept` terms kept as written and the rest flattened. `dense` packs the
    chained records full, ignoring which sender each range came from; `compact` writes the
    chained records' ranges as covering blocks after their exceptions where that is shorter
    (spfbuild.encoding): such terms stay out of the main record."""
    return _packed(top, kept, _plan(top, kept), spec, main_budget, dense=dense, compact=compact)


@dataclass(frozen=True)
class _Plan:
    """A layout before packing: the main record's closing terms, the pass addresses movable to
    the front by segment, and the result classes (the self-check's samples)."""

    after: list[str]
    pools: list[tuple[int, AddressSet]]
    samples: list[AddressSet]


def _packed(top: Top, kept: set[int], plan: _Plan, spec: DomainSpec, main_budget: int, *, dense: bool,
            compact: bool, groups: list[Group] | None = None, max_chains: int = MAX_CHAINS) -> Layout:
    """`layout` from the plan of `kept`, and its exact groups when the caller has them already
    (written compactly here when `compact`). A packing that is not compact and needs more than
    `max_chains` chained records is FlattenError, not worked out."""
    after = plan.after
    if groups is None:
        groups = _groups(top, plan.pools)
    if compact:
        groups = _compacted(groups, _pool(plan.pools), _room(spec))
    names = functools.partial(chain_name, spec)
    try:
        try:
            # Capped only when a refusal ends this layout: a compact one that does not pack goes on
            # to offloading, which may fit where this packing would have needed more records.
            packed = pack([g.terms for g in groups], [], after, main_budget, spec.flatten.max_record_bytes, names,
                          dense=dense, max_chains=MAX_CHAINS if compact else max_chains)
        except PackError:
            if not compact:
                raise
            # Closing terms over the main record's budget: runs of them go to chained records of
            # their own, behind qualified includes.
            packed = pack_offloading([g.terms for g in groups], after, main_budget, spec.flatten.max_record_bytes,
                                     names)
    except PackError as exc:
        raise FlattenError(f"{spec.domain}: {exc}") from None
    return Layout(packed, lookups_before_chains(top, kept) + len(packed.chains), groups, plan.samples)


def _plan(top: Top, kept: set[int]) -> _Plan:
    decided = EMPTY  # addresses an earlier segment already gives a result
    after: list[str] = []
    pools: list[tuple[int, AddressSet]] = []  # (segment start, pass addresses) movable to the front
    movable = True
    start = 0
    current: list[Claim] = []
    samples: list[AddressSet] = []
    for i, mech in enumerate(top.mechanisms):
        term_set = top.sets[i]
        if i in kept or term_set is None:
            found, decided = classes(current, decided)
            movable = _emit_segment(found, None, movable, start, pools, after)
            samples += found.values()
            after.append(str(mech))
            movable = movable and mech.qualifier is Qualifier.PASS and top.safe[i]
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
    return _Plan(after, pools, samples)


def _default(top: Top, claims: list[Claim]) -> str | None:
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
    found: dict[str, AddressSet], default: str | None, movable: bool, start: int,
    pools: list[tuple[int, AddressSet]], after: list[str],
) -> bool:
    for result in ("fail", "softfail", "neutral", "pass"):
        addresses = found.get(result)
        if not addresses or result == default:
            continue
        if result == "pass" and movable:
            pools.append((start, addresses))
            continue
        prefix = "" if result == "pass" else _QUALIFIER_OF[result].value
        after.extend(prefix + b.term() for b in addresses.blocks)
    return movable


@dataclass(frozen=True)
class Group:
    """The pass ranges one top-level term contributes (in record order), and where they came from."""

    label: str
    blocks: tuple[Block, ...]
    origins: list[tuple[Span, Origin]]
    encoded: tuple[str, ...] | None = None  # compact terms for chained records (spfbuild.encoding)
    addresses: AddressSet = field(default=EMPTY, compare=False, repr=False)  # what `blocks` cover

    @property
    def terms(self) -> list[str]:
        return list(self.encoded) if self.encoded is not None else [b.term() for b in self.blocks]


def _room(spec: DomainSpec) -> int:
    """The bytes of terms one chained record holds: a compact term must fit in one."""
    return spec.flatten.max_record_bytes - size([]) - 2


def _pool(pools: list[tuple[int, AddressSet]]) -> AddressSet:
    """Every address the chained records may pass: a cover over them needs no exception."""
    pool = EMPTY
    for _, addresses in pools:
        pool |= addresses
    return pool


def _compacted(groups: list[Group], passing: AddressSet, room: int) -> list[Group]:
    """The groups written for chained records, with covering blocks after their exceptions where
    that is shorter (`room`: the bytes one chained record holds for terms)."""
    return [replace(g, encoded=chained_terms(g.addresses, passing, room)) for g in groups]


def _groups(top: Top, pools: list[tuple[int, AddressSet]]) -> list[Group]:
    """Pass ranges grouped by the top-level term that contributes them, in record order."""
    pool = _pool(pools)
    groups: list[Group] = []
    contributors: list[tuple[str, TermSet]] = [
        (label(top.composed[i]), s) for i, s in enumerate(top.sets) if s is not None
    ]
    if top.redirect is not None and top.redirect_claims is not None:
        claims = top.redirect_claims
        redirect_set = EMPTY
        for claim in claims:
            redirect_set |= claim.addresses
        contributors.append((f"redirect={top.redirect.value}", TermSet(redirect_set, [o for c in claims
                                                                                      for o in c.origins])))
    for name, term_set in contributors:
        mine = pool & term_set.addresses
        if not mine:
            continue
        if mine == term_set.addresses:  # the term's own set, blocks known: a provider's, once per run
            mine = term_set.addresses
        pool = pool - mine
        groups.append(Group(name, mine.blocks, term_set.origins, addresses=mine))
    return groups


def label(item: Composed) -> str:
    source = item.sources[0] if item.sources else None
    return source.label if source else str(item.term)


def chain_name(spec: DomainSpec, n: int, content: str | None = None) -> str:
    """The chained record's name; while packing (no content yet) a placeholder hash of the
    final length stands in, unique per record."""
    import hashlib

    template = spec.flatten.chain_name or NUMBERED_TEMPLATE
    digest = hashlib.sha256(content.encode()).hexdigest()[:HASH_LENGTH] if content else f"{n:0{HASH_LENGTH}d}"
    return f"{template.format(n=n, hash=digest)}.{spec.domain}"


