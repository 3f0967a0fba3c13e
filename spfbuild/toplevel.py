"""What a composed record's top-level terms resolve to on the walked graph: the ranges each
decides, what each costs receivers, why a term must stay as written, and the refusals (loops,
DNS errors, broken records) that no layout can get around. The chooser (`spfbuild.layout`)
works on the `Top` this gives."""

from __future__ import annotations

from spfbuild.catalogue import Catalogue
from spfbuild.compose import Composed, keep_reason, keeps_literal
from spfbuild.config import DomainSpec
from spfbuild.layout import Top
from spfbuild.partition import Claim, Failure, FlattenError, Opaque, Partition, TermSet
from spfbuild.record import Mechanism, Modifier
from spfbuild.tree import Answered, Cost, Fetched, Graph, Status, Target, TermLookup

__all__ = ["OPAQUE_REASON", "resolve_top"]

OPAQUE_REASON = "its result depends on the client or on DNS at evaluation time (exists, ptr or macros)"


def resolve_top(
    spec: DomainSpec, terms: tuple[Composed, ...], root: Fetched, partition: Partition, catalogue: Catalogue
) -> Top:
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
    sets = [f if isinstance(f, TermSet) else None for f in found]
    broken = _broken_kept(partition, root, mechanisms, answers, sets)
    problem = partition.problem(root, frozenset(broken))
    if problem is not None:
        raise FlattenError(problem)
    counts = [_cost(graph, a) for a in answers[: len(mechanisms)]]
    # A reason the config or the catalogue gives wins over the one found in DNS.
    reasons = {i: OPAQUE_REASON for i, s in enumerate(sets) if s is None}
    reasons |= {i: why for i, c in enumerate(composed) if (why := keep_reason(c, spec.flatten.keep, catalogue))}
    modifiers = [c.term for c in terms if isinstance(c.term, Modifier)]
    redirect = next((m for m in modifiers if m.name == "redirect"), None) if cut is None else None
    redirect_claims: list[Claim] | None = None
    redirect_cost = Cost(0)
    if redirect is not None:
        answer = answers[-1]
        redirect_cost = _cost(graph, answer)
        below = partition.step(root, redirect, answer)
        if isinstance(below, Failure):
            raise FlattenError(below.message)
        redirect_claims = None if isinstance(below, Opaque) else below
    tail = [str(m) for m in modifiers if m.name != "redirect"]
    return Top(list(composed), mechanisms, sets, [c.lookups for c in counts],
               [(c.void_ipv4, c.void_ipv6) for c in counts], reasons, redirect, redirect_claims, redirect_cost.lookups,
               (redirect_cost.void_ipv4, redirect_cost.void_ipv6), tail,
               [_never_errs(partition, a) for a in answers[: len(mechanisms)]],
               frozenset(i for i, c in enumerate(composed) if keeps_literal(c, spec.flatten.keep, catalogue)),
               tuple(broken.values()))


def _broken_kept(partition: Partition, root: Fetched, mechanisms: list[Mechanism], answers: list[Answered | None],
                 sets: list[TermSet | None]) -> dict[str, str]:
    """The targets of top-level includes kept as written (their result depends on the client)
    whose trees are broken for every receiver alike (`Partition.lasting_problem`), each with a
    warning: such a term gives permerror wherever it is evaluated, kept in place in the
    flattened record as in the declared one, so every address keeps its result. A DNS failure
    during the run still refuses."""
    broken: dict[str, str] = {}
    for mech, answer, term_set in zip(mechanisms, answers, sets, strict=False):
        if term_set is not None or mech.kind != "include" or not isinstance(answer, Target):
            continue
        child = partition.graph.node(answer.followed) if answer.followed is not None else None
        if child is None:
            continue  # unresolved or never followed: `Partition.problem` judges it
        why, lasting = partition.lasting_problem(child)
        if why is not None and lasting:
            broken[child.domain] = (f"{mech} in {root.domain}: {why}: permerror for every client that reaches it; "
                                    "kept in place")
    return broken


def _cost(graph: Graph, answer: Answered | None) -> Cost:
    """The lookups and void lookups one top-level term costs receivers, over its whole tree
    (RFC 7208 4.6.4); a name only a macro gives is counted void."""
    if answer is None:
        return Cost(0)
    if isinstance(answer, TermLookup):
        if _dynamic(answer):
            return Cost(1, 1, 1)
        return Cost(1, int("ipv4" in answer.void), int("ipv6" in answer.void))
    if answer.followed is None:
        return Cost(1)
    child = graph.node(answer.followed)
    assert child is not None  # an unresolved target was refused before
    below = graph.cost(child)
    dynamic = _dynamic_below(graph, child, {})
    return Cost(1 + below.lookups, below.void_ipv4 + dynamic, below.void_ipv6 + dynamic)


def _never_errs(partition: Partition, answer: Answered | None) -> bool:
    """Whether a term kept as written can only match or not match: pass ranges may move ahead of
    it only then. Its tree was resolved and found valid (a tree broken for every receiver may be
    kept, see `_broken_kept`: never one that never errs), and a macro
    in an `a`, `mx` or `exists` only decides match or no match (its void lookups are within the
    budget); but an include or redirect whose target a macro names leads to a record nobody has
    seen, which may not exist (permerror)."""
    if not isinstance(answer, Target):
        return True
    if answer.name is Status.DYNAMIC:
        return False
    child = partition.graph.node(answer.followed) if answer.followed is not None else None
    return child is not None and partition.never_errs(child)


def _dynamic_below(graph: Graph, node: Fetched, known: dict[str, int]) -> int:
    """The `_dynamic` terms a receiver evaluates in `node`'s record and below, counted along
    every path (a record included twice is evaluated twice); the graph reaches no cycle."""
    if node.domain in known:
        return known[node.domain]
    count = sum(_dynamic(t) for t in node.terms)
    for _, child in graph.children(node):
        if child is not None:
            count += _dynamic_below(graph, child, known)
    known[node.domain] = count
    return count


def _dynamic(lookup: TermLookup) -> bool:
    """An `a`, `mx` or `exists` whose name a macro gives: void for most clients (`exists:%{i}...`),
    so counted as one in the void budget of the terms kept as written."""
    return lookup.target is None and lookup.problem is None and lookup.mechanism.kind != "ptr"
