"""DNS-aware rules (SPF5xx), raised by `spfbuild check` after resolving the include tree.

`check_domain()` runs them all on one domain: over its walked `spfbuild.tree.Tree` (`check_tree()`)
and on its answer to the SPF-type question; `invalid_name()` is the one finding for a name that
is not a domain, raised before any DNS. Every finding names the node it concerns, so reports can
show it in the tree.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from spfbuild.diagnostics import Diagnostic
from spfbuild.limits import MAX_LOOKUPS, MAX_RECORD_BYTES, MAX_STRING_BYTES, MAX_VOID_LOOKUPS, UDP_PAYLOAD_BYTES
from spfbuild.mechanisms import MAX_NAMES
from spfbuild.record import Mechanism, Qualifier
from spfbuild.rules.registry import (
    ADDRESS_LIMIT,
    DNS_TEMPERROR,
    DUPLICATE_PROVIDER,
    INCLUDE_LOOP,
    INCLUDED_PASS_ALL,
    INCLUDED_SYNTAX_ERROR,
    INVALID_DOMAIN_NAME,
    LARGE_RESPONSE,
    MANY_ADDRESSES,
    MISSING_TARGET,
    MULTIPLE_RECORDS,
    MX_OF_INCLUDED_PROVIDER,
    NO_SPF_RECORD,
    PUBLISHED_SIZE,
    SPF_TYPE_RECORD,
    TOO_MANY_DNS_LOOKUPS,
    TOO_MANY_MX_NAMES,
    TOO_MANY_VOID_LOOKUPS,
    TXT_ANSWER_TOO_LARGE,
)
from spfbuild.tree import Fetched, Node, Status, TermLookup, Tree, evaluated_terms
from spfbuild.txt import octets, record_size, split_strings

if TYPE_CHECKING:
    from spfbuild.dns import Answer


class Providers(Protocol):
    """Which provider a DNS name belongs to, by its display name (see `spfbuild.audit`)."""

    def provider_of(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class Finding:
    """A diagnostic and the node of the tree it concerns: `path` as in `Tree.node()`, () for
    the audited domain itself."""

    diagnostic: Diagnostic
    path: tuple[int, ...] = ()
    domain: str = ""

    @property
    def is_error(self) -> bool:
        return self.diagnostic.is_error

    def to_dict(self) -> dict[str, object]:
        return {**self.diagnostic.to_dict(), "domain": self.domain, "path": list(self.path)}


def check_tree(tree: Tree, providers: Providers | None = None) -> list[Finding]:
    """Every SPF5xx finding a walked tree shows, each once, in tree order."""
    found: list[Finding] = []
    for path, node, parent in _with_parents(tree.root):
        found += [Finding(d, path, node.domain) for d in _node(node, parent)]
        found += [Finding(d, path, node.domain) for term in node.terms for d in _term(term, node)]
    found += [Finding(d, (), tree.domain) for d in _limits(tree)]
    if providers is not None:
        found += _providers(tree, providers)
    seen: set[tuple[str, str]] = set()
    unique: list[Finding] = []
    for finding in found:  # a record included twice shows its problems once
        key = (finding.diagnostic.code, finding.diagnostic.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _with_parents(root: Node) -> Iterator[tuple[tuple[int, ...], Node, Node | None]]:
    stack: list[tuple[tuple[int, ...], Node, Node | None]] = [((), root, None)]
    while stack:
        path, node, parent = stack.pop()
        yield path, node, parent
        stack += reversed([((*path, i), child, node) for i, child in enumerate(node.children)])


def _where(node: Node, parent: Node | None) -> str:
    return f"{node.via} in {parent.domain}" if parent is not None else node.domain


def _node(node: Node, parent: Node | None) -> Iterator[Diagnostic]:
    # Problems of the audited domain itself need no "include:x in y: " to say where they are.
    where = "" if parent is None else f"{_where(node, parent)}: "
    if node.status is Status.TEMPERROR:
        yield DNS_TEMPERROR(f"{where}{node.message}")
    elif node.status is Status.MULTIPLE:
        yield MULTIPLE_RECORDS(f"{where}{node.message}; receivers return permerror")
    elif node.status is Status.LOOP:
        yield INCLUDE_LOOP(f"include loop: {node.message}")
    elif node.status.missing:
        rule = NO_SPF_RECORD if parent is None else MISSING_TARGET
        yield rule(f"{where}{node.domain} has no SPF record ({node.message})")
    if parent is None:
        yield from _root_size(node)
    else:
        yield from _included(node, _where(node, parent))


def _root_size(node: Node) -> Iterator[Diagnostic]:
    fetched = node.fetched
    record = node.record
    if fetched is not None and record is not None and len(octets(record)) > MAX_STRING_BYTES:
        # DNS holds it as strings of at most 255 bytes (SPF401 is for record text being written).
        yield PUBLISHED_SIZE(f"the record is {len(octets(record))} bytes, {_strings(record, fetched.string_sizes)}; "
                             f"the TXT answer at {node.domain} is {_answer(fetched)}")
    if fetched is not None and fetched.txt_bytes > UDP_PAYLOAD_BYTES:
        yield TXT_ANSWER_TOO_LARGE(
            f"the {fetched.txt_records} TXT records at {node.domain} make an answer of {_bytes(fetched)} "
            f"(over {UDP_PAYLOAD_BYTES}: it needs TCP or EDNS)"
        )


def _strings(record: str, sizes: tuple[int, ...] | None) -> str:
    """The strings a record is published in, e.g. "in 2 strings of 255 and 120 bytes"."""
    if sizes is None:
        return f"at least {len(split_strings(record))} strings of at most {MAX_STRING_BYTES}"
    shown = [str(size) for size in sizes]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" and {shown[-1]}"
    return f"in {len(sizes)} string{'' if len(sizes) == 1 else 's'} of {listed} bytes"


def _bytes(fetched: Fetched) -> str:
    return f"{fetched.txt_bytes} bytes" if fetched.txt_exact else f"at least {fetched.txt_bytes} bytes"


def _answer(fetched: Fetched) -> str:
    return f"{_bytes(fetched)} ({fetched.txt_records} record{'' if fetched.txt_records == 1 else 's'})"


def _included(node: Node, where: str) -> Iterator[Diagnostic]:
    """The rules about a record reached through include or redirect (its own lint is not ours)."""
    parsed, fetched = node.parsed, node.fetched
    if parsed is None or fetched is None:
        return
    errors = [d for d in parsed.diagnostics if d.is_error]
    if errors:
        first = errors[0]
        column = f" at column {first.column}" if first.column else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        yield INCLUDED_SYNTAX_ERROR(f"{where}: the record of {node.domain} has a syntax error{column}: "
                                    f"{first.message}{more}")
    last = evaluated_terms(parsed.record)[-1:]
    if last and isinstance(last[0], Mechanism) and last[0].kind == "all" and last[0].qualifier is Qualifier.PASS:
        yield INCLUDED_PASS_ALL(f"{where}: the record of {node.domain} ends with +all and matches every host")
    size = record_size(fetched.record or "")
    if size > MAX_RECORD_BYTES:
        yield LARGE_RESPONSE(f"{where}: the record of {node.domain} is {size} bytes (guidance: at most "
                             f"{MAX_RECORD_BYTES})")
    elif fetched.txt_bytes > UDP_PAYLOAD_BYTES:
        yield LARGE_RESPONSE(f"{where}: the TXT answer at {node.domain} is {_answer(fetched)}; over "
                             f"{UDP_PAYLOAD_BYTES} it needs TCP or EDNS")


def _term(term: TermLookup, node: Node) -> Iterator[Diagnostic]:
    where = f"{term.term} in {node.domain}"
    for message in term.errors:
        yield DNS_TEMPERROR(f"{where}: {message}")
    if term.mechanism.kind == "mx" and len(term.exchanges) > MAX_NAMES:
        yield TOO_MANY_MX_NAMES(f"{where}: {term.problem}")
    if len(term.addresses) > ADDRESS_LIMIT:
        yield MANY_ADDRESSES(f"{where}: {term.target} resolves to {len(term.addresses)} addresses")


def _limits(tree: Tree) -> Iterator[Diagnostic]:
    at_least = "at least " if tree.truncated else ""
    if tree.lookups > MAX_LOOKUPS:
        branches = ", ".join(f"{_label(b)} {b.lookups}" for b in tree.root.branches)
        yield TOO_MANY_DNS_LOOKUPS(
            f"{at_least}{tree.lookups} DNS lookups over the include tree (the limit is {MAX_LOOKUPS}): {branches}"
        )
    if tree.void_lookups > MAX_VOID_LOOKUPS:
        family = "ipv4" if tree.root.void_lookups("ipv4") >= tree.root.void_lookups("ipv6") else "ipv6"
        voids = [f"{t.term} in {n.domain}" for _, n in tree.nodes() for t in n.terms if family in t.void]
        client = "IPv4" if family == "ipv4" else "IPv6"
        yield TOO_MANY_VOID_LOOKUPS(
            f"{at_least}{tree.void_lookups} void lookups for {client} clients (the limit is "
            f"{MAX_VOID_LOOKUPS}): {', '.join(voids)}"
        )


def _label(branch: Node | TermLookup) -> str:
    if isinstance(branch, Node):
        return branch.via or branch.domain
    return branch.term


def _providers(tree: Tree, providers: Providers) -> list[Finding]:
    """Providers referenced more than once, and mx terms whose hosts an included provider owns."""
    references: dict[str, list[str]] = {}
    found: list[Finding] = []
    for path, node, parent in _with_parents(tree.root):
        owner = providers.provider_of(node.domain)
        # Records inside a provider's own tree (Google's _spf including its _netblocks) are one reference.
        if parent is not None and owner is not None and not _inside(tree, path, owner, providers):
            references.setdefault(owner, []).append(_where(node, parent))
    for owner, places in references.items():
        if len(places) > 1:
            found.append(Finding(DUPLICATE_PROVIDER(
                f"{owner} is referenced {len(places)} times: {'; '.join(places)}"), (), tree.domain))
    for path, node in tree.nodes():
        for term in node.terms:
            hosts = [h for h in term.exchanges if h != "."]
            owners = {providers.provider_of(h) for h in hosts}
            if term.mechanism.kind != "mx" or not hosts or len(owners) != 1:
                continue
            owner = owners.pop()
            if owner in references:
                found.append(Finding(MX_OF_INCLUDED_PROVIDER(
                    f"{term.term} in {node.domain}: the MX hosts ({', '.join(hosts)}) belong to {owner}, "
                    f"which is already included ({references[owner][0]})"), path, node.domain))
    return found


def _inside(tree: Tree, path: tuple[int, ...], owner: str, providers: Providers) -> bool:
    """Whether a node above `path` (the root included) already belongs to `owner`."""
    return any(providers.provider_of(tree.node(path[:depth]).domain) == owner for depth in range(len(path)))


# ---------------------------------------------------------------------- the domain itself


def check_domain(tree: Tree, spf_type: Answer, providers: Providers | None = None) -> list[Finding]:
    """Every SPF5xx finding for a walked domain: its tree's, then its SPF-type (99) answer's."""
    return check_tree(tree, providers) + _spf_type(tree.domain, spf_type)


def invalid_name(given: str, problem: str) -> Finding:
    """The finding for a name that is not a valid domain name (`problem` says why)."""
    return Finding(INVALID_DOMAIN_NAME(f"{given!r} is not a valid domain name: {problem}"), (), given)


def _spf_type(name: str, answer: Answer) -> list[Finding]:
    # A failure here is not reported: receivers never ask for type 99, so it cannot hurt mail.
    if not answer.ok or not answer.strings:
        return []
    texts = "; ".join(repr(text) for text in answer.strings)
    return [Finding(SPF_TYPE_RECORD(f"{name} has an SPF-type (99) record: {texts}"), (), name)]
