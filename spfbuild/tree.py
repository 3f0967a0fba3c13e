"""The include tree of a domain's SPF record, resolved as far as DNS allows without a sender.

`walk()` fetches the domain's record, then the records of every include and redirect target,
level by level (each level's questions asked together), and resolves the `a`, `mx` and
`exists` terms alongside. Each record is fetched once per walk and each DNS question is asked
once per resolver (its cache), however often the tree names it. The tree is then built from
those records depth first, in evaluation order, so it is the same whatever order DNS answered
in. Loops, over-deep chains and oversized trees end in leaf nodes that say why.

Only terms a receiver can evaluate are followed and counted (RFC 7208 section 4.6.4):
mechanisms up to the first `all`, and `redirect=` only when there is no `all` (6.1). That is
the cost of the no-match path, which is what every unauthorised sender makes a receiver pay.

Everything returned is a frozen value; nothing here prints, raises for DNS or record problems,
or depends on the resolver beyond `query(name, rdtype) -> Answer`.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import NamedTuple

from spfbuild.dns import Answer
from spfbuild.macro import DOMAIN_LETTERS, MacroContext, MacroError, expand, parse_macro_string, truncate_domain
from spfbuild.mechanisms import MAX_NAMES, DNSResolver, dns_name_problem
from spfbuild.record import Mechanism, Modifier, ParseResult, Record, Term, is_spf_record, parse

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_RECORDS",
    "Fetched",
    "Node",
    "Status",
    "Target",
    "TermLookup",
    "Tree",
    "evaluated_terms",
    "fetch",
    "txt_response_size",
    "walk",
]

MAX_DEPTH = 20  # include/redirect nesting followed; a chain past 10 is over the lookup limit anyway
MAX_RECORDS = 200  # distinct records fetched per walk: bounds DNS work on hostile trees
MAX_NODES = 2000  # tree nodes built per walk: a record included twice appears twice, so DAGs can blow up

# DNS message overhead around TXT records: 12-byte header; each answer record adds a 2-byte
# compressed owner name plus type, class, TTL and RDLENGTH (10 bytes).
_HEADER_BYTES = 12
_RR_OVERHEAD = 12


class Status(StrEnum):
    OK = "ok"  # exactly one SPF record
    NONE = "none"  # the name has TXT records, none of them SPF
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"  # the name exists but has no TXT record
    MULTIPLE = "multiple"  # more than one SPF record (permerror for receivers)
    TEMPERROR = "temperror"  # DNS failed: no answer to judge
    INVALID = "invalid"  # the target is not a name DNS can carry
    DYNAMIC = "dynamic"  # the target holds macros that depend on the sender: not followed
    LOOP = "loop"  # the target is already on the path from the root: not followed
    TRUNCATED = "truncated"  # past MAX_DEPTH, MAX_RECORDS or MAX_NODES: not followed

    @property
    def missing(self) -> bool:
        """No SPF record at the name (an include or redirect there is a permerror)."""
        return self in (Status.NONE, Status.NXDOMAIN, Status.NODATA, Status.INVALID)


@dataclass(frozen=True)
class TermLookup:
    """An `a`, `mx`, `exists` or `ptr` term of a record, resolved as far as a sender-less walk can.

    `void` holds the address families ("ipv4", "ipv6") for which a receiver would count this
    term as a void lookup: `a` asks A or AAAA depending on the client, `mx` and `exists` are void
    for both when their answer is empty."""

    mechanism: Mechanism
    target: str | None  # the name asked; None when it depends on the sender (macros, ptr)
    exchanges: tuple[str, ...] = ()  # mx: exchange names, in preference order
    addresses: tuple[str, ...] = ()  # a, mx: every A then AAAA address found
    void: frozenset[str] = frozenset()
    errors: tuple[str, ...] = ()  # temperror answers met, as one line each (name, type and server)
    problem: str | None = None  # why the term is a permerror: too many MX names, an invalid name

    @property
    def term(self) -> str:
        return str(self.mechanism)

    @property
    def lookups(self) -> int:
        return 1


@dataclass(frozen=True)
class Fetched:
    """What DNS says at one name: its SPF record and the resolution of the record's terms."""

    domain: str
    status: Status
    record: str | None = None
    parsed: ParseResult | None = field(default=None, repr=False, compare=False)
    message: str | None = None  # the DNS outcome in words, for anything but OK
    txt_records: int = 0  # TXT records at the name, SPF or not
    txt_bytes: int = 0  # size of the whole TXT response (see txt_response_size)
    terms: tuple[TermLookup, ...] = ()  # the record's evaluated a/mx/exists/ptr terms, in order

    @property
    def targets(self) -> tuple[Target, ...]:
        """The evaluated includes and redirect of the record, in order."""
        if self.parsed is None:
            return ()
        out: list[Target] = []
        for term in evaluated_terms(self.parsed.record):
            spec = _follow_spec(term)
            if spec is not None:
                out.append(Target(str(term), spec, target_name(spec, self.domain)))
        return tuple(out)


class Target(NamedTuple):
    via: str  # the term as written: "include:x", "redirect=x"
    spec: str  # its domain-spec
    name: str | Status  # the name to fetch, or why it cannot be fetched (DYNAMIC, INVALID)


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
        own = sum(1 for t in self.terms if family in t.void)
        return own + sum(child.void_lookups(family) for child in self.children)

    def walk(self, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Node]]:
        """(path, node) for this node and every node below, depth first; a path is the
        indexes of `children` taken from this node."""
        yield path, self
        for index, child in enumerate(self.children):
            yield from child.walk((*path, index))


@dataclass(frozen=True)
class Tree:
    root: Node
    truncated: bool = False  # some branch was cut (MAX_*): totals are lower bounds

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


# ---------------------------------------------------------------------- record selection


def evaluated_terms(record: Record) -> tuple[Term, ...]:
    """The terms a receiver may evaluate, in order: mechanisms up to the first `all`, then
    `redirect=` when there is no `all` (RFC 7208 sections 4.6.2, 5.1, 6.1)."""
    out: list[Term] = []
    for mechanism in record.mechanisms:
        out.append(mechanism)
        if mechanism.kind == "all":
            return tuple(out)
    redirect = next((m for m in record.modifiers if m.name == "redirect"), None)
    return (*out, redirect) if redirect is not None else tuple(out)


def target_name(spec: str | None, domain: str) -> str | Status:
    """The name a domain-spec asks (the current domain when None), or why it cannot be asked:
    DYNAMIC when it depends on the sender, INVALID when DNS cannot carry it. `%{d}` alone is
    known without a sender, so it is expanded."""
    if spec is None:
        return domain
    parsed = parse_macro_string(spec, letters=DOMAIN_LETTERS)
    if isinstance(parsed, MacroError):
        return Status.INVALID
    if "%" in spec:
        if not parsed.letters <= {"d"}:
            return Status.DYNAMIC
        context = MacroContext(sender=f"postmaster@{domain}", ip=ipaddress.IPv4Address(0), domain=domain)
        spec = truncate_domain(expand(parsed, context))
    name = spec.lower().removesuffix(".")
    return name if dns_name_problem(name) is None else Status.INVALID


def txt_response_size(name: str, records: tuple[str, ...]) -> int:
    """The size of a DNS response carrying every TXT record of `name`, without EDNS. Each record
    is counted as the fewest 255-byte strings it needs, so this is a lower bound; over 512 bytes
    it cannot come over plain UDP."""
    question = len(name.encode()) + 2 + 4  # labels with length bytes, root, type and class
    answers = 0
    for text in records:
        size = len(text.encode("utf-8", "surrogateescape"))
        answers += _RR_OVERHEAD + size + max(1, -(-size // 255))
    return _HEADER_BYTES + question + answers


async def fetch(domain: str, resolver: DNSResolver) -> Fetched:
    """The SPF record at `domain` (RFC 7208 sections 4.4, 4.5), without resolving its terms."""
    answer = await resolver.query(domain, "TXT")
    texts = answer.strings
    size = txt_response_size(domain, texts) if texts else 0
    base = Fetched(domain, Status.OK, txt_records=len(texts), txt_bytes=size, message=answer.message)
    if answer.is_temperror:
        return replace(base, status=Status.TEMPERROR)
    spf = [text for text in texts if is_spf_record(text)]
    if len(spf) > 1:
        return replace(base, status=Status.MULTIPLE, message=f"{len(spf)} SPF records at {domain}")
    if not spf:
        status = {"nxdomain": Status.NXDOMAIN, "nodata": Status.NODATA}.get(answer.outcome.value, Status.NONE)
        why = answer.message if answer.is_void else f"{len(texts)} TXT record{'' if len(texts) == 1 else 's'}, none SPF"
        return replace(base, status=status, message=why)
    return replace(base, record=spf[0], parsed=parse(spf[0]), message=None)


# ---------------------------------------------------------------------- walking


async def walk(domain: str, resolver: DNSResolver) -> Tree:
    """The include tree of `domain` (a valid domain name, lower case, no trailing dot)."""
    records, cut = await _explore(domain, resolver)
    builder = _Builder(records)
    root = builder.build(domain, None, (), 0)
    return Tree(root, truncated=cut or builder.truncated)


async def _explore(root: str, resolver: DNSResolver) -> tuple[dict[str, Fetched], bool]:
    """Fetch every record reachable from `root`, one level of includes at a time; the a/mx/exists
    terms of each record are resolved concurrently with the levels below it."""
    records: dict[str, Fetched] = {}
    resolving: dict[str, asyncio.Task[tuple[TermLookup, ...]]] = {}
    level, depth, cut = [root], 0, False
    try:
        while level:
            room = MAX_RECORDS - len(records)
            cut = cut or len(level) > room
            fetched = await asyncio.gather(*(fetch(name, resolver) for name in level[:room]))
            for found in fetched:
                records[found.domain] = found
                if found.parsed is not None:
                    resolving[found.domain] = asyncio.ensure_future(_resolve_terms(found, resolver))
            depth += 1
            following = {t.name for f in fetched for t in f.targets
                         if not isinstance(t.name, Status) and t.name not in records}
            if depth > MAX_DEPTH:
                cut = cut or bool(following)
                break
            level = sorted(following)  # sorted: which names survive a MAX_RECORDS cut must not depend on timing
        for name, task in resolving.items():
            records[name] = replace(records[name], terms=await task)
    finally:
        for task in resolving.values():  # cancelled walk: leave no term lookups running
            task.cancel()
    return records, cut


class _Builder:
    """Builds nodes depth first from the fetched records, with loop detection and size bounds."""

    def __init__(self, records: dict[str, Fetched]):
        self.records = records
        self.nodes = 0
        self.truncated = False

    def build(self, domain: str, via: str | None, path: tuple[str, ...], depth: int) -> Node:
        self.nodes += 1
        reached = 0 if via is None else 1
        fetched = self.records.get(domain)
        if domain in path:
            cycle = " -> ".join((*path[path.index(domain):], domain))
            return Node(domain, via, Status.LOOP, depth, reached, message=cycle)
        if fetched is None or depth > MAX_DEPTH or self.nodes > MAX_NODES:
            self.truncated = True
            why = "not followed: the tree is too deep or too large to walk"
            return Node(domain, via, Status.TRUNCATED, depth, reached, message=why)
        if fetched.parsed is None:
            return Node(domain, via, fetched.status, depth, reached, fetched.message, fetched)
        branches = self._branches(fetched, (*path, domain), depth)
        cost = reached + sum(b.lookups for b in branches)
        return Node(domain, via, fetched.status, depth, cost, fetched.message, fetched, branches)

    def _branches(self, fetched: Fetched, path: tuple[str, ...], depth: int) -> tuple[Node | TermLookup, ...]:
        assert fetched.parsed is not None
        lookups = iter(fetched.terms)
        targets = iter(fetched.targets)
        out: list[Node | TermLookup] = []
        for term in evaluated_terms(fetched.parsed.record):
            if _follow_spec(term) is not None:
                out.append(self._child(next(targets), path, depth + 1))
            elif term.queries_dns:
                out.append(next(lookups))
        return tuple(out)

    def _child(self, target: Target, path: tuple[str, ...], depth: int) -> Node:
        if isinstance(target.name, Status):
            dynamic = target.name is Status.DYNAMIC
            why = "the target depends on the sender (macros)" if dynamic else "the target is not a valid domain name"
            return Node(target.spec, target.via, target.name, depth, 1, message=why)
        return self.build(target.name, target.via, path, depth)


def _follow_spec(term: Term) -> str | None:
    """The domain-spec of an include or redirect (the terms that lead to another record)."""
    if isinstance(term, Mechanism) and term.kind == "include":
        return term.domain
    if isinstance(term, Modifier) and term.name == "redirect":
        return term.value
    return None


# ---------------------------------------------------------------------- a / mx / exists


async def _resolve_terms(fetched: Fetched, resolver: DNSResolver) -> tuple[TermLookup, ...]:
    assert fetched.parsed is not None
    terms = [
        t for t in evaluated_terms(fetched.parsed.record)
        if isinstance(t, Mechanism) and t.queries_dns and t.kind != "include"
    ]
    return tuple(await asyncio.gather(*(_resolve(t, fetched.domain, resolver) for t in terms)))


async def _resolve(mechanism: Mechanism, domain: str, resolver: DNSResolver) -> TermLookup:
    if mechanism.kind == "ptr":
        return TermLookup(mechanism, None)  # asks the client's reverse zone: unknown without a client
    target = target_name(mechanism.domain, domain)
    if target is Status.DYNAMIC:
        return TermLookup(mechanism, None)
    if isinstance(target, Status):
        # A receiver finds nothing at a name DNS cannot carry: a void lookup for every client.
        return TermLookup(mechanism, None, void=_BOTH, problem="the target is not a valid domain name")
    if mechanism.kind == "exists":
        answer = await resolver.query(target, "A")  # always A, whatever the client (5.7)
        return TermLookup(mechanism, target, void=_BOTH if answer.is_void else frozenset(),
                          errors=_errors(answer))
    if mechanism.kind == "a":
        return await _resolve_a(mechanism, target, resolver)
    return await _resolve_mx(mechanism, target, resolver)


_BOTH = frozenset({"ipv4", "ipv6"})


async def _resolve_a(mechanism: Mechanism, target: str, resolver: DNSResolver) -> TermLookup:
    v4, v6 = await asyncio.gather(resolver.query(target, "A"), resolver.query(target, "AAAA"))
    void = frozenset(family for family, answer in (("ipv4", v4), ("ipv6", v6)) if answer.is_void)
    return TermLookup(mechanism, target, addresses=v4.strings + v6.strings, void=void,
                      errors=_errors(v4, v6))


async def _resolve_mx(mechanism: Mechanism, target: str, resolver: DNSResolver) -> TermLookup:
    answer = await resolver.query(target, "MX")
    if answer.is_void or not answer.ok:
        return TermLookup(mechanism, target, void=_BOTH if answer.is_void else frozenset(), errors=_errors(answer))
    names: list[str] = []
    for mx in sorted(answer.exchanges, key=lambda mx: mx.preference):
        name = mx.exchange.lower().removesuffix(".")
        if name not in names:
            names.append(name)
    if len(answer.exchanges) > MAX_NAMES:
        # A receiver stops here with permerror (4.6.4), so the hosts are never asked.
        problem = f"{target} has {len(answer.exchanges)} MX names; the limit is {MAX_NAMES}"
        return TermLookup(mechanism, target, exchanges=tuple(names), problem=problem)
    # A null MX (RFC 7505) or an unusable name has no addresses to ask for.
    hosts = [n for n in names if n != "." and dns_name_problem(n) is None]
    answers = await asyncio.gather(*(resolver.query(h, t) for h in hosts for t in ("A", "AAAA")))
    addresses = tuple(a for found in answers for a in found.strings)
    return TermLookup(mechanism, target, exchanges=tuple(names), addresses=addresses, errors=_errors(*answers))


def _errors(*answers: Answer) -> tuple[str, ...]:
    return tuple(a.message for a in answers if a.is_temperror)
