"""The values of the resolved graph: what DNS says at one name, and the answers of its terms.

`fetch()` is the one place outside the evaluator that selects a domain's SPF record (RFC 7208
sections 4.4, 4.5): the TXT records only (type 99 is never asked), exactly one starting with
`v=spf1` (any case, then a space or the end). `evaluated_terms()` says which terms a receiver
may evaluate: mechanisms up to the first `all`, `redirect=` only when there is no `all`.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import NamedTuple

from spfbuild.dns.values import string_sizes
from spfbuild.dnsname import name_problem
from spfbuild.limits import MAX_STRING_BYTES, UDP_PAYLOAD_BYTES
from spfbuild.macro import DOMAIN_LETTERS, MacroContext, MacroError, expand, parse_macro_string, truncate_domain
from spfbuild.mechanisms import DNSResolver
from spfbuild.record import Mechanism, Modifier, ParseResult, Record, Term
from spfbuild.recordparse import is_spf_record, parse

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
    TRUNCATED = "truncated"  # past the bounds of a walk or of a tree view: not followed

    @property
    def missing(self) -> bool:
        """No SPF record at the name (an include or redirect there is a permerror)."""
        return self in (Status.NONE, Status.NXDOMAIN, Status.NODATA, Status.INVALID)


@dataclass(frozen=True)
class Host:
    """A name an `a` or `mx` term asks addresses of, and the addresses DNS gave."""

    name: str
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()


@dataclass(frozen=True)
class TermLookup:
    """An `a`, `mx`, `exists` or `ptr` term of a record, resolved as far as a sender-less walk can.

    `void` holds the address families ("ipv4", "ipv6") for which a receiver would count this
    term as a void lookup: `a` asks A or AAAA depending on the client, `mx` and `exists` are void
    for both when their answer is empty."""

    mechanism: Mechanism
    target: str | None  # the name asked; None when it depends on the sender (macros, ptr)
    exchanges: tuple[str, ...] = ()  # mx: exchange names, in preference order
    hosts: tuple[Host, ...] = ()  # a: the target; mx: each usable exchange, in preference order
    void: frozenset[str] = frozenset()
    errors: tuple[str, ...] = ()  # temperror answers met, as one line each (name, type and server)
    problem: str | None = None  # why the term is a permerror: too many MX names, an invalid name

    @property
    def term(self) -> str:
        return str(self.mechanism)

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address found: each host's A then AAAA addresses."""
        return tuple(a for host in self.hosts for a in (*host.ipv4, *host.ipv6))

    @property
    def lookups(self) -> int:
        return 1


class Target(NamedTuple):
    """An include or redirect of a record: an edge of the graph, by the target's name."""

    via: str  # the term as written: "include:x", "redirect=x"
    spec: str  # its domain-spec
    name: str | Status  # the name to fetch, or why it cannot be fetched (DYNAMIC, INVALID)

    @property
    def followed(self) -> str | None:
        """The name whose record the edge leads to; None when it cannot be fetched."""
        return None if isinstance(self.name, Status) else self.name


Answered = TermLookup | Target  # what an evaluated DNS-querying term resolved to


@dataclass(frozen=True)
class Fetched:
    """One node of the graph: what DNS says at one name (or, when not `published`, a record
    given as it would be published there), and the resolution of the record's terms."""

    domain: str
    status: Status
    record: str | None = None
    parsed: ParseResult | None = field(default=None, repr=False, compare=False)
    message: str | None = None  # the DNS outcome in words, for anything but OK
    txt_records: int = 0  # TXT records at the name, SPF or not
    txt_bytes: int = 0  # size of the whole TXT response (see txt_response_size)
    txt_exact: bool = False  # txt_bytes counts the strings as published (else a lower bound)
    # The byte size of each string the SPF record was published in; None when the source does not tell.
    string_sizes: tuple[int, ...] | None = None
    terms: tuple[TermLookup, ...] = ()  # the record's evaluated a/mx/exists/ptr terms, in order
    spf_records: int = 0  # records starting with v=spf1 (more than one is a permerror)
    others: tuple[str, ...] = field(default=(), repr=False)  # the TXT records that are not SPF records
    published: bool = True

    @functools.cached_property
    def evaluated(self) -> tuple[tuple[Term, Answered | None], ...]:
        """Each term a receiver may evaluate, in order, with what it resolved to (None for the
        terms that ask no DNS: ip4, ip6, all)."""
        if self.parsed is None:
            return ()
        lookups = iter(self.terms)
        out: list[tuple[Term, Answered | None]] = []
        for term in evaluated_terms(self.parsed.record):
            spec = follow_spec(term)
            if spec is not None:
                out.append((term, Target(str(term), spec, target_name(spec, self.domain))))
            elif term.queries_dns:
                out.append((term, next(lookups, None)))
            else:
                out.append((term, None))
        return tuple(out)

    @functools.cached_property  # cached, as `evaluated`: counting and every view read it
    def branches(self) -> tuple[Answered, ...]:
        """The evaluated DNS-querying terms in order: each one costs a receiver one lookup."""
        return tuple(a for _, a in self.evaluated if a is not None)

    @functools.cached_property
    def targets(self) -> tuple[Target, ...]:
        """The evaluated includes and redirect of the record, in order."""
        return tuple(a for _, a in self.evaluated if isinstance(a, Target))


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


def follow_spec(term: Term) -> str | None:
    """The domain-spec of an include or redirect (the terms that lead to another record)."""
    if isinstance(term, Mechanism) and term.kind == "include":
        return term.domain
    if isinstance(term, Modifier) and term.name == "redirect":
        return term.value
    return None


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
    return name if name_problem(name) is None else Status.INVALID


def txt_response_size(name: str, records: tuple[str, ...]) -> int:
    """The size of a DNS response carrying every TXT record of `name`, without EDNS. A record
    from DNS is counted in the strings it was published in, any other as the fewest 255-byte
    strings it needs (a lower bound); over 512 bytes it cannot come over plain UDP."""
    question = len(name.encode()) + 2 + 4  # labels with length bytes, root, type and class
    answers = 0
    for text in records:
        sizes = string_sizes(text)
        size = len(text.encode("utf-8", "surrogateescape"))
        strings = len(sizes) if sizes is not None else max(1, -(-size // MAX_STRING_BYTES))
        answers += _RR_OVERHEAD + size + strings  # each string has one length byte
    return _HEADER_BYTES + question + answers


def sizes_known(records: tuple[str, ...]) -> bool:
    """Whether txt_response_size of `records` is exact: every record came from DNS."""
    return all(string_sizes(text) is not None for text in records)


def room_beside(name: str, others: tuple[str, ...]) -> int:
    """The TXT RDATA bytes one more record at `name` may take for the answer carrying it and
    `others` to fit a plain UDP message (see txt_response_size)."""
    return UDP_PAYLOAD_BYTES - txt_response_size(name, others) - _RR_OVERHEAD


async def fetch(domain: str, resolver: DNSResolver) -> Fetched:
    """The SPF record at `domain` (RFC 7208 sections 4.4, 4.5), without resolving its terms."""
    answer = await resolver.query(domain, "TXT")
    texts = answer.strings
    size = txt_response_size(domain, texts) if texts else 0
    base = Fetched(domain, Status.OK, txt_records=len(texts), txt_bytes=size, txt_exact=sizes_known(texts),
                   message=answer.message)
    if answer.is_temperror:
        return replace(base, status=Status.TEMPERROR)
    spf = [text for text in texts if is_spf_record(text)]
    base = replace(base, spf_records=len(spf), others=tuple(text for text in texts if not is_spf_record(text)))
    if len(spf) > 1:
        shown = ", ".join(f'"{text}"' for text in spf)  # every one: the fix is choosing what to merge
        return replace(base, status=Status.MULTIPLE, message=f"{len(spf)} SPF records at {domain}: {shown}")
    if not spf:
        status = {"nxdomain": Status.NXDOMAIN, "nodata": Status.NODATA}.get(answer.outcome.value, Status.NONE)
        why = answer.message if answer.is_void else f"{len(texts)} TXT record{'' if len(texts) == 1 else 's'}, none SPF"
        return replace(base, status=status, message=why)
    return replace(base, record=spf[0], parsed=parse(spf[0]), message=None, string_sizes=string_sizes(spf[0]))


def unpublished(domain: str, record: Record) -> Fetched:
    """A record as it would be published at `domain` (flatten's composed record), as a root node."""
    text = str(record)
    parsed = ParseResult(text=text, record=record, spans=())
    return Fetched(domain, Status.OK, record=text, parsed=parsed, spf_records=1, published=False)
