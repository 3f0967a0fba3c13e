"""The exact result of an SPF record for every address, as integer-interval address sets
(`spfbuild.intervals`), read from the graph.

A record is an ordered list of claims: (result, addresses). An address gets the result of the
first claim that contains it (first match wins), and neutral when none does (RFC 7208 4.7).
`include:` contributes the addresses for which its target's result is pass, so an included
record's `-ip4:` exclusions and its `~all` are honoured; `redirect=` appends its target's
claims when the record has no `all` (6.1).

Claims, and the pass set an include of a name contributes, are computed from the resolved graph
(`spfbuild.tree`) once per name per run and shared by every domain of the run, with no DNS of
their own. Where a record has none, the reason is a value: `Opaque` when a term's result
cannot be known ahead of time (`exists`, `ptr`, macros: the caller keeps that term as written),
`Failure` when DNS failed or a record is broken. Anywhere in a term's tree, opacity wins over
failure: a term kept as written needs no addresses, and `problem()` still finds the records a
receiver could not evaluate.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field

from spfbuild.errors import SPFBuildError
from spfbuild.evaluation import SharedResults
from spfbuild.intervals import EMPTY, FULL, AddressSet, span
from spfbuild.limits import MAX_MX_NAMES
from spfbuild.record import Mechanism, Modifier, Term
from spfbuild.tree import Answered, Fetched, Graph, Status, Target, TermLookup, Walker

__all__ = ["EMPTY", "FULL", "Claim", "Failure", "FlattenError", "Opaque", "Origin", "Partition", "Span", "TermSet",
           "classes", "pass_set", "record_problem"]

Span = tuple[int, int]  # an inclusive interval on the address line (see spfbuild.intervals)

_OUTCOME = {Status.NONE: "ok", Status.NXDOMAIN: "nxdomain", Status.NODATA: "nodata"}


class FlattenError(SPFBuildError):
    """The senders' records cannot be flattened (a DNS error, a broken or missing record)."""


@dataclass(frozen=True)
class Opaque:
    """A term whose result depends on the sender: `term` as written, in the record of `domain`."""

    domain: str
    term: str


@dataclass(frozen=True)
class Failure:
    """Why a record cannot be flattened, as flatten's one-line message."""

    message: str


@dataclass(frozen=True)
class Origin:
    """Where a published range came from: the DNS name whose record lists it (or whose address it
    is), and the names of the records included (or redirected to) on the way there from the record
    that sees it, that record itself left out: empty for its own ranges."""

    name: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class Claim:
    result: str
    addresses: AddressSet
    origins: list[tuple[Span, Origin]] = field(default_factory=list)


@dataclass(frozen=True)
class TermSet:
    addresses: AddressSet
    origins: list[tuple[Span, Origin]]


Claims = list[Claim]


class Partition:
    """The claims of the walker's graph nodes, memoised per name; shared by the domains of a run."""

    def __init__(self, walker: Walker):
        self.walker = walker
        self.graph = walker.graph
        self._claims: dict[str, Claims | Opaque | Failure] = {}
        self._passing: dict[str, TermSet] = {}  # an include target's pass set, by name
        self._trees: dict[str, _Tree] = {}  # what a settled node's tree holds, by name
        self.verdicts = SharedResults()  # the self-check's evaluations of included records, for the run

    def claims(self, node: Fetched) -> Claims | Opaque | Failure:
        """The claims of `node`'s record, their origins as the node sees them (`Origin`). The
        node must reach no cycle (see `Graph.cycle`)."""
        memoised = node.published and self.graph.node(node.domain) is node
        if memoised and node.domain in self._claims:
            return self._claims[node.domain]
        found = self._compute(node)
        if memoised:
            self._claims[node.domain] = found
        return found

    def term_set(self, node: Fetched, term: Mechanism, answer: Answered | None) -> TermSet | Opaque | Failure:
        """The addresses one mechanism of `node`'s record matches; for an include, those for
        which the target's result is pass."""
        domain = node.domain
        if term.kind == "ptr" or term.has_macros:
            return Opaque(domain, str(term))
        if term.kind == "exists":
            assert isinstance(answer, TermLookup)
            return _exists(answer)
        if term.kind == "all":
            return TermSet(FULL, [])
        network = term.network
        if network is not None:
            line = span(network)
            return TermSet(AddressSet((line[0], line[1] + 1)), [(line, Origin(domain, ()))])
        if isinstance(answer, Target):
            below = self._target(node, answer)
            if isinstance(below, Opaque | Failure):
                return below
            return self._pass_set(answer, below)
        assert isinstance(answer, TermLookup)
        return _addresses(term, answer, domain)

    def _pass_set(self, target: Target, below: Claims) -> TermSet:
        """The pass set of a resolved target's claims, its origins as the includer sees them: once
        per published name (every client domain that includes a provider sees the same)."""
        name = target.followed
        assert name is not None  # `below` is the claims of a resolved target
        child = self.graph.node(name)
        if child is None or not child.published:
            return _seen_through(name, pass_set(below))
        found = self._passing.get(name)
        if found is None:
            found = self._passing[name] = _seen_through(name, pass_set(below))
        return found

    def problem(self, root: Fetched, skip: frozenset[str] = frozenset()) -> str | None:
        """The first broken record in `root`'s tree, depth first in evaluation order: what makes
        a receiver's result temperror or permerror wherever the tree is kept as written. The
        root's includes of the names in `skip` are not entered (`lasting_problem` reads them)."""
        return next((why for why, _ in self._problems(root, skip)), None)

    def lasting_problem(self, root: Fetched) -> tuple[str | None, bool]:
        """The first broken record in `root`'s tree, and whether every problem in it is one that
        every receiver meets alike whenever it evaluates the tree (no record, several, a syntax
        error, a target DNS cannot carry: permerror), rather than one of this run (a DNS
        failure, a record the walk did not reach)."""
        found = list(self._problems(root))
        return (found[0][0] if found else None), all(lasting for _, lasting in found)

    def never_errs(self, node: Fetched) -> bool:
        """Whether `node`'s tree can only give a result, never an error: every record in it
        resolved and valid, and no include or redirect whose target a macro names."""
        if self.graph.settled(node):
            tree = self._tree(node)
            return not tree.problems and not tree.dynamic
        return self.problem(node) is None and all(
            t.name is not Status.DYNAMIC for below in self.graph.reachable(node) for t in below.targets)

    def _problems(self, root: Fetched, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, bool]]:
        """The problems of `root`'s tree, depth first in evaluation order. When every tree below
        the root is settled, each is read once per run (`_tree`): a provider included by a
        thousand domains is not searched a thousand times. (A record met again on another path
        then adds its problems again, which changes neither the first problem nor whether all
        are lasting.)"""
        graph = self.graph
        below = [child for _, child in graph.children(root) if child is not None and child.domain not in skip]
        if all(graph.settled(c) and (root.published or root.domain not in graph.names_below(c)) for c in below):
            yield from _own_problems(graph, root)
            for child in below:
                yield from self._tree(child).problems
            return
        for node in graph.reachable(root, skip):
            yield from _own_problems(graph, node)

    def _tree(self, node: Fetched) -> _Tree:
        """The problems (deduplicated, in order) and macro targets of a settled node's tree."""
        found = self._trees.get(node.domain)
        if found is None:
            problems = list(_own_problems(self.graph, node))
            dynamic = any(t.name is Status.DYNAMIC for t in node.targets)
            for _, child in self.graph.children(node):
                assert child is not None  # settled: every node below is resolved
                below = self._tree(child)
                problems += below.problems
                dynamic = dynamic or below.dynamic
            found = self._trees[node.domain] = _Tree(tuple(dict.fromkeys(problems)), dynamic)
        return found

    def _compute(self, node: Fetched) -> Claims | Opaque | Failure:
        why = record_problem(node)
        if why is not None:
            return Failure(why)
        claims: Claims = []
        failure: Failure | None = None
        for term, answer in node.evaluated:
            found = self.step(node, term, answer)
            if isinstance(found, Opaque):
                return found  # wins over any failure: see the module's docstring
            if isinstance(found, Failure):
                failure = failure or found
            elif failure is None:
                claims += found
        return failure or claims

    def step(self, node: Fetched, term: Term, answer: Answered | None) -> Claims | Opaque | Failure:
        """The claims one evaluated term of `node`'s record adds (a redirect adds its target's)."""
        if isinstance(term, Modifier):  # redirect=, evaluated only without `all`
            if "%" in term.value:
                return Opaque(node.domain, str(term))
            assert isinstance(answer, Target)
            below = self._target(node, answer)
            if isinstance(below, Opaque | Failure):
                return below
            via = answer.followed
            assert via is not None  # `below` is the claims of a resolved target
            return [Claim(c.result, c.addresses, [(n, _from(via, o)) for n, o in c.origins]) for c in below]
        found = self.term_set(node, term, answer)
        if isinstance(found, Opaque | Failure):
            return found
        return [Claim(term.qualifier.result, found.addresses, found.origins)]

    def _target(self, node: Fetched, target: Target) -> Claims | Opaque | Failure:
        """The claims of an include's or redirect's target (their paths start at the target)."""
        name = target.followed
        if name is None:
            if target.name is Status.DYNAMIC:
                return Opaque(node.domain, target.via)
            return Failure(f"{target.via} in {node.domain}: the target is not a valid domain name")
        child = self.graph.node(name)
        if child is None:
            return Failure(_unreached(self.graph.unreached, target))
        return self.claims(child)


@dataclass(frozen=True)
class _Tree:
    problems: tuple[tuple[str, bool], ...]  # (why, lasting), as `Partition._problems` gives them
    dynamic: bool  # some include or redirect in the tree has a target a macro names


def _own_problems(graph: Graph, node: Fetched) -> Iterator[tuple[str, bool]]:
    """The problems of one node's record and its edges (not of the records below)."""
    why = record_problem(node)
    if why is not None:
        yield why, node.status is not Status.TEMPERROR
    for target, child in graph.children(node):
        if child is None:
            yield _unreached(graph.unreached, target), False
    for target in node.targets:
        if target.name is Status.INVALID:
            yield f"{target.via} in {node.domain}: the target is not a valid domain name", True


def record_problem(node: Fetched) -> str | None:
    """Why the record at a node cannot be evaluated at all, in flatten's words."""
    if node.status is Status.TEMPERROR:
        return f"temperror: {node.message}"
    if node.status is Status.MULTIPLE:
        return f"{node.domain} publishes {node.spf_records} SPF records (permerror)"
    if node.status in _OUTCOME:
        return f"{node.domain} has no SPF record ({_OUTCOME[node.status]})"
    errors = [d for d in node.parsed.diagnostics if d.is_error] if node.parsed is not None else []
    if errors:
        return f"{node.domain}: SPF record has a syntax error: {errors[0].message}"
    return None


def _unreached(unreached: dict[str, str], target: Target) -> str:
    """Why a walk left the target's record unresolved (a bound of `spfbuild.tree.Walker`)."""
    name = target.followed or target.spec
    return f"{unreached.get(name, 'not resolved')} at {name}"


def _from(via: str, origin: Origin) -> Origin:
    """An origin of the record at `via`, seen by a record that includes or redirects to it."""
    return Origin(origin.name, (via, *origin.path))


def _seen_through(via: str, found: TermSet) -> TermSet:
    """The pass set of the record at `via`, seen by a record that includes it."""
    return TermSet(found.addresses, [(line, _from(via, o)) for line, o in found.origins])


def _exists(lookup: TermLookup) -> TermSet | Failure:
    """`exists:` of a name without macros: every client or none, as its A answer says (an
    invalid name is no data, as for receivers)."""
    if lookup.errors:
        return Failure(f"temperror: {lookup.errors[0]}")
    return TermSet(EMPTY if lookup.void else FULL, [])


def _addresses(term: Mechanism, lookup: TermLookup, domain: str) -> TermSet | Failure:
    """The networks of an `a` or `mx` term: each address with the term's prefix."""
    if lookup.errors:
        return Failure(f"temperror: {lookup.errors[0]}")
    if term.kind == "mx" and len(lookup.exchanges) > MAX_MX_NAMES:
        return Failure(f"mx:{lookup.target} has {len(lookup.exchanges)} MX names, over the limit of {MAX_MX_NAMES}")
    if lookup.problem is not None and lookup.target is not None:
        return Failure(f"{term} in {domain}: {lookup.problem}")
    # A target DNS cannot carry (a:host..example.net) has no addresses: receivers find no data.
    prefix4 = 32 if term.prefix4 is None else term.prefix4
    prefix6 = 128 if term.prefix6 is None else term.prefix6
    origins: list[tuple[Span, Origin]] = []
    for host in lookup.hosts:
        found = [span(ipaddress.ip_network(f"{a}/{prefix4}", strict=False)) for a in host.ipv4]
        found += [span(ipaddress.ip_network(f"{a}/{prefix6}", strict=False)) for a in host.ipv6]
        origins += [(line, Origin(host.name, ())) for line in found]
    return TermSet(AddressSet.of(line for line, _ in origins), origins)


def pass_set(claims: Claims) -> TermSet:
    """Addresses for which the record's result is pass: where an include matches."""
    # What earlier claims decided is tracked rather than what remains: both are exact, but the
    # remainder of a few ranges is the complement of the address space, thousands of blocks.
    decided = EMPTY
    passing = EMPTY
    origins: list[tuple[Span, Origin]] = []
    for claim in claims:
        if claim.result == "pass":
            matched = claim.addresses - decided
            passing |= matched
            origins += _overlapping(claim.origins, matched)
        decided |= claim.addresses
        if decided == FULL:
            break
    return TermSet(passing, origins)


def classes(
    claims: list[Claim], decided: AddressSet, skip: str | None = None
) -> tuple[dict[str, AddressSet], AddressSet]:
    """Disjoint result classes of `claims` for the addresses not in `decided` (which earlier
    claims decided), and `decided` grown by them. The class of result `skip` is left out (its
    addresses are decided all the same): the default result needs no ranges, and under `-all`
    it is the complement of all the others, thousands of blocks.

    Tracking the decided addresses rather than the undecided complement keeps the sets small."""
    found: dict[str, AddressSet] = {}
    for claim in claims:
        if claim.result == skip:
            # decided | (claim - decided) is decided | claim; the difference (under `-all`, the
            # complement of every earlier range) is never built.
            decided = decided | claim.addresses
            continue
        matched = claim.addresses - decided
        if matched:
            found[claim.result] = found[claim.result] | matched if claim.result in found else matched
            decided = decided | matched
    return found, decided


def _overlapping(origins: list[tuple[Span, Origin]], addresses: AddressSet) -> list[tuple[Span, Origin]]:
    """The origins whose span shares an address with `addresses`, each found by bisection."""
    if not origins or not addresses:
        return []
    return [(line, origin) for line, origin in origins if addresses.meets(*line)]
