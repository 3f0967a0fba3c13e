"""The include tree of one domain as people read it: the graph expanded from a root, bounded.

Each `Node` is one occurrence of a record (a record included twice appears twice), in
evaluation order, so `spfbuild check` can show every path and say where each finding sits.
Its lookup and void-lookup counts come from the graph's memoised counts; only where a cycle is
reachable, and a count is not defined, are they summed over the bounded expansion, with the
include that closes the cycle counted once and not followed (a LOOP leaf). Expansion stops at
MAX_DEPTH levels and MAX_NODES nodes, in TRUNCATED leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from spfbuild.mechanisms import DNSResolver
from spfbuild.record import ParseResult
from spfbuild.tree.graph import Cost, Graph
from spfbuild.tree.nodes import Fetched, Status, Target, TermLookup
from spfbuild.tree.walker import MAX_DEPTH, Walker

__all__ = ["MAX_NODES", "Node", "Tree", "expand", "walk"]

MAX_NODES = 2000  # nodes of one expansion: a record included twice appears twice, so DAGs can blow up


@dataclass(frozen=True)
class Node:
    """One occurrence of a record in the tree. `via` is the term that led here
    ("include:x", "redirect=x"); None for the root. `lookups` is the cost of reaching and
    evaluating it: 1 for the include/redirect itself (not for the root) plus its subtree."""

    domain: str
    via: str | None
    status: Status
    depth: int
    lookups: int
    message: str | None = None
    fetched: Fetched | None = field(default=None, repr=False)
    branches: tuple[Node | TermLookup, ...] = ()  # DNS-querying terms in evaluation order
    voids: tuple[int, int] = (0, 0)  # void lookups over the subtree for IPv4 and IPv6 clients

    @property
    def record(self) -> str | None:
        return self.fetched.record if self.fetched else None

    @property
    def parsed(self) -> ParseResult | None:
        return self.fetched.parsed if self.fetched else None

    @property
    def children(self) -> tuple[Node, ...]:
        return tuple(b for b in self.branches if isinstance(b, Node))

    @property
    def terms(self) -> tuple[TermLookup, ...]:
        return tuple(b for b in self.branches if isinstance(b, TermLookup))

    @property
    def own_lookups(self) -> int:
        """The DNS-querying terms this record evaluates itself (each include/redirect is one)."""
        return len(self.branches)

    def void_lookups(self, family: str) -> int:
        """Void lookups over this subtree for a client of `family` ("ipv4" or "ipv6")."""
        return self.voids[0] if family == "ipv4" else self.voids[1]

    def walk(self, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Node]]:
        """(path, node) for this node and every node below, depth first; a path is the
        indexes of `children` taken from this node."""
        yield path, self
        for index, child in enumerate(self.children):
            yield from child.walk((*path, index))


@dataclass(frozen=True)
class Tree:
    root: Node
    truncated: bool = False  # some record below was not resolved or shown: totals are lower bounds

    @property
    def domain(self) -> str:
        return self.root.domain

    @property
    def lookups(self) -> int:
        return self.root.lookups

    @property
    def void_lookups(self) -> int:
        """The void lookups a receiver would count, for the worse of the two address families."""
        return max(self.root.void_lookups("ipv4"), self.root.void_lookups("ipv6"))

    def nodes(self) -> Iterator[tuple[tuple[int, ...], Node]]:
        return self.root.walk()

    def node(self, path: tuple[int, ...]) -> Node:
        node = self.root
        for index in path:
            node = node.children[index]
        return node


async def walk(domain: str, resolver: DNSResolver, walker: Walker | None = None) -> Tree:
    """The include tree of `domain` (a valid domain name, lower case, no trailing dot); `walker`
    shares the graph with other walks of the run."""
    walker = walker or Walker(resolver)
    root = await walker.walk(domain)
    return expand(root, walker.graph)


def expand(root: Fetched, graph: Graph) -> Tree:
    """The tree view of `root`'s record over the graph."""
    builder = _Builder(graph)
    node = builder.build(root.domain, root, None, (), 0)
    counted = builder.cost(root)
    truncated = builder.cut if counted is None else not counted.complete
    return Tree(node, truncated=truncated)


class _Builder:
    """Builds nodes depth first from the graph, with loop detection and size bounds."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.nodes = 0
        self.cut = False

    def cost(self, fetched: Fetched | None) -> Cost | None:
        """The graph's count for the record, or None where a cycle leaves it undefined."""
        if fetched is None or self.graph.cycle(fetched) is not None:
            return None
        return self.graph.cost(fetched)

    def build(self, domain: str, fetched: Fetched | None, via: str | None, path: tuple[str, ...],
              depth: int) -> Node:
        self.nodes += 1
        reached = 0 if via is None else 1
        if domain in path:
            cycle = " -> ".join((*path[path.index(domain):], domain))
            return Node(domain, via, Status.LOOP, depth, reached, message=cycle)
        if fetched is None or depth > MAX_DEPTH or self.nodes > MAX_NODES:
            self.cut = True
            counted = self.cost(fetched)
            below = (counted.lookups, (counted.void_ipv4, counted.void_ipv6)) if counted else (0, (0, 0))
            why = "not followed: the tree is too deep or too large to walk"
            return Node(domain, via, Status.TRUNCATED, depth, reached + below[0], message=why, voids=below[1])
        if fetched.parsed is None:
            return Node(domain, via, fetched.status, depth, reached, fetched.message, fetched)
        branches = tuple(self._branch(b, (*path, domain), depth + 1) for b in fetched.branches)
        counted = self.cost(fetched)
        if counted is not None:
            lookups, voids = counted.lookups, (counted.void_ipv4, counted.void_ipv6)
        else:  # a cycle is reachable: summed over this expansion, which ends each cycle in a LOOP leaf
            lookups = sum(b.lookups for b in branches)
            voids = (sum(_void(b, "ipv4") for b in branches), sum(_void(b, "ipv6") for b in branches))
        return Node(domain, via, fetched.status, depth, reached + lookups, fetched.message, fetched, branches,
                    voids)

    def _branch(self, branch: TermLookup | Target, path: tuple[str, ...], depth: int) -> Node | TermLookup:
        if isinstance(branch, TermLookup):
            return branch
        name = branch.followed
        if name is None:
            dynamic = branch.name is Status.DYNAMIC
            why = "the target depends on the sender (macros)" if dynamic else "the target is not a valid domain name"
            return Node(branch.spec, branch.via, Status(branch.name), depth, 1, message=why)
        return self.build(name, self.graph.node(name), branch.via, path, depth)


def _void(branch: Node | TermLookup, family: str) -> int:
    if isinstance(branch, TermLookup):
        return int(family in branch.void)
    return branch.void_lookups(family)
