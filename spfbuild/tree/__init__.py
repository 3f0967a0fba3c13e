"""SPF policy resolved once per run into one immutable graph, and the views read from it.

`Walker` resolves records, breadth first and concurrently, into a `Graph` of `Fetched` nodes
shared by name across every tree and every domain of a run (`walker`). The graph holds each
record found, its evaluated terms with their DNS answers, its includes and redirect as edges by
target name, and every error as a value (`nodes`). Lookup and void-lookup counts are memoised
per node, and cycles are found on the graph (`graph`). `spfbuild check` reads the bounded tree
view of one domain (`view`); flattening reads the graph itself (`spfbuild.partition`).

Only terms a receiver can evaluate are followed and counted (RFC 7208 section 4.6.4):
mechanisms up to the first `all`, and `redirect=` only when there is no `all` (6.1). That is
the cost of the no-match path, which is what every unauthorised sender makes a receiver pay.
"""

from spfbuild.tree.graph import Cost, Graph
from spfbuild.tree.nodes import (
    Answered,
    Fetched,
    Host,
    Status,
    Target,
    TermLookup,
    evaluated_terms,
    fetch,
    follow_spec,
    room_beside,
    target_name,
    txt_response_size,
    unpublished,
)
from spfbuild.tree.view import MAX_NODES, Node, Tree, expand, walk
from spfbuild.tree.walker import MAX_DEPTH, MAX_RECORDS, Walker, asks_own_terms

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_RECORDS",
    "Answered",
    "Cost",
    "Fetched",
    "Graph",
    "Host",
    "Node",
    "Status",
    "Target",
    "TermLookup",
    "Tree",
    "Walker",
    "asks_own_terms",
    "evaluated_terms",
    "expand",
    "fetch",
    "follow_spec",
    "room_beside",
    "target_name",
    "txt_response_size",
    "unpublished",
    "walk",
]
