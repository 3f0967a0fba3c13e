"""DNS-aware rules (SPF5xx), raised by `spfbuild check` after resolving the include tree.

`check_tree()` judges a walked `spfbuild.tree.Tree`; the two rules that need a question of their
own (`invalid-domain` before any DNS, `spf-type-record` after an SPF-type query) are raised by
`spfbuild.audit`. Every finding names the node it concerns, so reports can show it in the tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from spfbuild.diagnostics import Diagnostic, Severity, register
from spfbuild.limits import MAX_LOOKUPS, MAX_VOID_LOOKUPS, UDP_PAYLOAD_BYTES
from spfbuild.mechanisms import MAX_NAMES
from spfbuild.record import Mechanism, Qualifier
from spfbuild.tree import Node, Status, TermLookup, Tree, evaluated_terms
from spfbuild.txt import record_size

MAX_RECORD_BYTES = 450  # RFC 7208 section 3.4: keep a record within a 512-byte UDP answer
ADDRESS_LIMIT = 10  # addresses behind one a/mx term before it looks like shared hosting or a CDN

INVALID_DOMAIN = register(
    "SPF500", "invalid-domain-name", Severity.ERROR,
    "The name given to check is not a valid domain name.",
    "Give a domain name such as example.com (no scheme, path, spaces or @).",
)
NO_SPF_RECORD = register(
    "SPF501", "no-spf-record", Severity.ERROR,
    "The domain publishes no SPF record, so receivers get the result none.",
    'Publish one TXT record starting with "v=spf1", e.g. "v=spf1 mx -all", or "v=spf1 -all" for a domain '
    "that sends no mail.",
)
MULTIPLE_RECORDS = register(
    "SPF502", "multiple-spf-records", Severity.ERROR,
    "More than one TXT record starts with v=spf1: receivers return permerror.",
    "Merge them into a single record.",
    "RFC 7208 section 4.5: a domain must publish at most one SPF record; with two or more, "
    "check_host() returns permerror, also when the domain is reached through an include.",
)
INCLUDED_SYNTAX_ERROR = register(
    "SPF503", "included-syntax-error", Severity.ERROR,
    "A record reached through include or redirect has a syntax error: receivers return permerror.",
    "Fix the included record, or ask its owner to; `spfbuild lint` shows the exact column.",
)
MISSING_TARGET = register(
    "SPF504", "target-without-spf", Severity.ERROR,
    "An include or redirect names a domain without an SPF record: receivers return permerror.",
    "Correct the name (often a provider's old or misspelt include), or remove the term.",
    "RFC 7208 sections 5.2 and 6.1: an include or redirect whose target has no SPF record is a permerror.",
)
INCLUDE_LOOP = register(
    "SPF505", "include-loop", Severity.ERROR,
    "Includes or redirects lead back to a record already on the path.",
    "Remove the include or redirect that closes the loop.",
    "A loop makes check_host() run until the 10-lookup limit stops it with permerror (RFC 7208 4.6.4).",
)
TOO_MANY_DNS_LOOKUPS = register(
    "SPF506", "too-many-dns-lookups", Severity.ERROR,
    "The whole include tree costs more than 10 DNS lookups: receivers may return permerror.",
    "Drop unused senders, or flatten providers into ip4/ip6 ranges with `spfbuild flatten`.",
    "RFC 7208 section 4.6.4 counts include, a, mx, ptr, exists and redirect in every record evaluated. "
    "The count is that of a sender matching nothing, which every forged mail is.",
)
TOO_MANY_VOID_LOOKUPS = register(
    "SPF507", "too-many-void-lookups", Severity.ERROR,
    "More than 2 DNS-querying terms get an empty answer (NXDOMAIN or no records): receivers return permerror.",
    "Remove the terms that name hosts or domains that no longer exist.",
    "RFC 7208 section 4.6.4 recommends receivers stop with permerror after two void lookups. `a` asks A "
    "for IPv4 clients and AAAA for IPv6 ones; the worse family is reported.",
)
TOO_MANY_MX_NAMES = register(
    "SPF508", "too-many-mx-names", Severity.ERROR,
    "An mx term's domain has more than 10 MX names: receivers return permerror.",
    "List the mail servers with ip4/ip6 or a: terms instead of mx.",
    "RFC 7208 section 4.6.4: the mx mechanism must not look up more than 10 MX names.",
)
MANY_ADDRESSES = register(
    "SPF509", "many-addresses", Severity.WARNING,
    f"An a or mx term resolves to more than {ADDRESS_LIMIT} addresses.",
    "Check that every address really sends mail for the domain; list the senders with ip4/ip6.",
    "Names with many addresses are usually shared hosting, load balancers or CDNs: every customer "
    "behind them can send as the domain, and the answers change without notice.",
)
DNS_TEMPERROR = register(
    "SPF510", "dns-temperror", Severity.ERROR,
    "A DNS question failed (timeout, SERVFAIL, REFUSED): receivers would return temperror.",
    "Check the name servers of the zone named; run the check again to rule out a passing fault.",
)
INCLUDED_PASS_ALL = register(
    "SPF511", "included-pass-all", Severity.ERROR,
    "A record reached through include or redirect ends with +all, so it matches every host.",
    "Remove that include or redirect, or have its owner end the record with ~all or -all.",
    "An included +all makes the include match every address: with `include:` (qualifier +) the whole "
    "internet passes as the domain, and with any other qualifier every term after it is dead. "
    "Either way the policy no longer says who may send, hence an error like `pass-all` (SPF200).",
)
DUPLICATE_PROVIDER = register(
    "SPF512", "duplicate-provider", Severity.WARNING,
    "The same provider is included more than once, directly or through other includes.",
    "Keep one include per provider: the one covering every region you use.",
    "Each extra reference costs DNS lookups for addresses already authorised (e.g. Mimecast's global "
    "_netblocks record already includes the regional ones).",
)
MX_OF_INCLUDED_PROVIDER = register(
    "SPF513", "mx-of-included-provider", Severity.WARNING,
    "An mx term names MX hosts that belong to a provider that is also included.",
    "Remove the mx term: the provider's include already authorises its servers.",
    "Security gateways such as Mimecast receive a domain's mail (its MX) and send its outbound mail "
    "from the ranges of their include; Mimecast advises removing mx, which costs lookups for nothing.",
)
LARGE_RESPONSE = register(
    "SPF514", "large-dns-response", Severity.WARNING,
    "A record in the include tree is over 450 bytes, or its TXT answer is over 512 bytes and needs TCP.",
    "Ask the record's owner to shorten it; prefer a provider's smaller regional include if it has one.",
    "Answers over 512 bytes do not fit plain UDP: receivers must retry over TCP or use EDNS, and some "
    "fail with temperror instead.",
)
TXT_ANSWER_TOO_LARGE = register(
    "SPF515", "txt-answer-too-large", Severity.WARNING,
    "All TXT records at the domain together make an answer over 512 bytes.",
    "Remove stale TXT records (old site-verification strings) or move them to their own names.",
    "Receivers ask for every TXT record at the name to find the SPF one. Over 512 bytes the answer "
    "needs TCP or EDNS; resolvers that cannot do either return temperror.",
)
SPF_TYPE_RECORD = register(
    "SPF516", "spf-type-record", Severity.WARNING,
    "The domain publishes an obsolete SPF (type 99) record.",
    "Delete the SPF-type record; keep the TXT record only.",
    "RFC 7208 section 3.1 removed the SPF record type; receivers ignore it, and a stale copy that "
    "differs from the TXT record only misleads the people reading the zone.",
)


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
    if fetched is not None and fetched.txt_bytes > UDP_PAYLOAD_BYTES:
        yield TXT_ANSWER_TOO_LARGE(
            f"the {fetched.txt_records} TXT records at {node.domain} make an answer of at least "
            f"{fetched.txt_bytes} bytes (over {UDP_PAYLOAD_BYTES}: it needs TCP or EDNS)"
        )


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
        yield LARGE_RESPONSE(f"{where}: the TXT answer at {node.domain} is at least {fetched.txt_bytes} bytes "
                             f"({fetched.txt_records} records); over {UDP_PAYLOAD_BYTES} it needs TCP or EDNS")


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
