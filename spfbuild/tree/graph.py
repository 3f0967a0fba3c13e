"""The resolved graph: nodes by name, and what is computed on it once per node.

A record included from many places is one node, whatever the number of paths to it, so lookup
and void-lookup counts are memoised per node and cost time linear in the graph's size, never
exponential on diamonds. Cycles are found on the graph, by a depth-first search that names the
first cycle met in evaluation order; a count is only defined where no cycle is reachable.

Counts follow RFC 7208 section 4.6.4: every evaluated DNS-querying term costs one lookup (an
include or redirect also costs what its target's record costs), and a term whose answer is
empty is a void lookup for the address families it is empty for. Nothing here asks DNS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from spfbuild.tree.nodes import Fetched, Target, TermLookup

__all__ = ["Cost", "Graph"]


@dataclass(frozen=True)
class Cost:
    """What evaluating a record costs a receiver on the no-match path (every unauthorised sender)."""

    lookups: int
    void_ipv4: int = 0  # void lookups for an IPv4 client
    void_ipv6: int = 0
    complete: bool = True  # False: some record below was not resolved, so these are lower bounds

    def void(self, family: str) -> int:
        return self.void_ipv4 if family == "ipv4" else self.void_ipv6


class Graph:
    """Every record a walker resolved, by name, with memoised counts. Nodes are only ever added,
    so a count memoised for a node whose whole subgraph is resolved stays true."""

    def __init__(self) -> None:
        self.nodes: dict[str, Fetched] = {}
        self.unreached: dict[str, str] = {}  # name -> why a walk stopped before resolving it
        self._costs: dict[str, Cost] = {}  # nodes with a complete, acyclic subgraph
        self._acyclic: set[str] = set()  # likewise: no cycle is reachable from them
        self._below: dict[str, frozenset[str]] = {}  # names reachable from an acyclic node, itself included

    def add(self, node: Fetched) -> None:
        self.nodes[node.domain] = node
        self.unreached.pop(node.domain, None)

    def node(self, name: str) -> Fetched | None:
        return self.nodes.get(name)

    def children(self, node: Fetched) -> Iterator[tuple[Target, Fetched | None]]:
        """The node's followable includes and redirect in order, each with its target's node
        (None when no walk resolved it)."""
        for target in node.targets:
            if target.followed is not None:
                yield target, self.nodes.get(target.followed)

    def reachable(self, root: Fetched, skip: frozenset[str] = frozenset(),
                  stop: Callable[[Fetched], bool] | None = None) -> Iterator[Fetched]:
        """`root`, then every resolved node below it, each once, depth first in evaluation order;
        the root's own includes and redirect of the names in `skip` are not followed, nor what
        lies below a node for which `stop` is true (the node itself is given)."""
        seen: set[str] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if node is not root and node.domain in seen:
                continue
            seen.add(node.domain)
            yield node
            if stop is not None and stop(node):
                continue
            below = [child for _, child in self.children(node) if child is not None and child.domain not in seen
                     and not (node is root and child.domain in skip)]
            stack.extend(reversed(below))

    def cycle(self, root: Fetched) -> tuple[str, ...] | None:
        """The first cycle reachable from `root` in evaluation order, as names from the first
        repeated one back to it ("b", "c", "b"), or None. The root's own name is on the path: a
        record that leads back to its own name loops once it is published there."""
        if self._memoised(root, self._acyclic):
            return None
        path, on_path = [root.domain], {root.domain}
        frames: list[tuple[Fetched, Iterator[tuple[Target, Fetched | None]]]] = [(root, self.children(root))]
        complete = [True]  # per frame: every node below it was resolved
        done: dict[str, bool] = {}  # explored without a cycle -> complete
        while frames:
            node, below = frames[-1]
            step = next(below, None)
            if step is None:
                frames.pop()
                path.pop()
                on_path.discard(node.domain)
                whole = complete.pop()
                done[node.domain] = whole
                if whole and node.published:
                    self._acyclic.add(node.domain)
                if complete:
                    complete[-1] = complete[-1] and whole
                continue
            target, child = step
            name = target.followed
            assert name is not None
            if name in on_path:
                return (*path[path.index(name):], name)
            if name in self._acyclic and (root.published or root.domain not in self.names_below(self.nodes[name])):
                continue  # (an unpublished root's own name may still lie below: look)
            if name in done:
                complete[-1] = complete[-1] and done[name]
                continue
            if child is None:
                complete[-1] = False
                continue
            frames.append((child, self.children(child)))
            path.append(name)
            on_path.add(name)
            complete.append(True)
        return None

    def settled(self, node: Fetched) -> bool:
        """Whether `node` is the graph's node of its name and every node below it is resolved,
        with no cycle reachable: what is computed of its tree then holds for the rest of the run
        (nodes are only ever added)."""
        return self._memoised(node, self._acyclic)

    def names_below(self, node: Fetched) -> frozenset[str]:
        """The names reachable from `node`, itself included; once per run for a settled node:
        an unpublished root (a composed record) need not enter a provider's tree again to know
        that its own name is not in it."""
        if not self.settled(node):
            return frozenset(n.domain for n in self.reachable(node))
        found = self._below.get(node.domain)
        if found is None:
            found = self._below[node.domain] = frozenset(n.domain for n in self.reachable(node))
        return found

    def cost(self, root: Fetched) -> Cost:
        """The lookups and void lookups of evaluating `root`'s record; `root` must reach no cycle."""
        if self._memoised(root, self._costs):
            return self._costs[root.domain]
        if self.cycle(root) is not None:
            raise ValueError(f"a cycle is reachable from {root.domain}: it has no count")
        local: dict[str, Cost] = {}  # incomplete counts hold for this call only: a later walk may fill them

        def known(name: str) -> Cost | None:
            return self._costs.get(name) or local.get(name)

        stack: list[tuple[Fetched, bool]] = [(root, False)]
        result = Cost(0)
        while stack:
            node, ready = stack.pop()
            if node is not root and known(node.domain) is not None:
                continue
            if not ready:  # post-order: the children's counts first
                stack.append((node, True))
                stack.extend((child, False) for _, child in self.children(node)
                             if child is not None and known(child.domain) is None)
                continue
            counted = self._own(node, known)
            if node is root:
                result = counted
            else:
                local[node.domain] = counted
            if counted.complete and node.published:
                self._costs[node.domain] = counted
        return result

    def _own(self, node: Fetched, known: Callable[[str], Cost | None]) -> Cost:
        """The node's count from its terms and its children's counts."""
        lookups = void4 = void6 = 0
        complete = True
        for answer in node.branches:
            lookups += 1
            if isinstance(answer, TermLookup):
                void4 += "ipv4" in answer.void
                void6 += "ipv6" in answer.void
                continue
            name = answer.followed
            if name is None:
                continue  # the target depends on the sender or is no name: one lookup, not followed
            below = known(name) if name in self.nodes else None
            if below is None:
                complete = False
                continue
            lookups += below.lookups
            void4 += below.void_ipv4
            void6 += below.void_ipv6
            complete = complete and below.complete
        return Cost(lookups, void4, void6, complete)

    def _memoised(self, node: Fetched, table: dict[str, Cost] | set[str]) -> bool:
        return node.published and node.domain in table and self.nodes.get(node.domain) is node
