"""Audit published SPF records: the record found, every offline lint rule on it, and the
DNS-aware rules (SPF5xx) over its whole include tree.

`audit()` checks one domain; `audit_many()` checks any number concurrently through one shared
resolver and one shared walker (so a provider's records are asked and resolved once per run,
however many domains include them), yielding reports in input order with bounded memory.
Neither raises for anything a domain publishes or a name given: a bad name is an
`invalid-domain-name` finding.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spfbuild.companion_audit import DkimCheck, DmarcCheck, check_dkim, check_dmarc, early_dkim, selectors_in
from spfbuild.dns import Answer, normalize
from spfbuild.dnsname import name_problem
from spfbuild.idn import IDNError, to_ascii
from spfbuild.linting import lint_value, record_text
from spfbuild.mechanisms import DNSResolver, domain_problem
from spfbuild.orgdomain import organisational_domain
from spfbuild.record import IPNetwork, Mechanism, Qualifier
from spfbuild.recordparse import parse
from spfbuild.rules import dns as rules
from spfbuild.rules.dns import Finding, Providers
from spfbuild.rules.registry import BROAD_RANGE
from spfbuild.tree import Node, TermLookup, Tree, Walker, walk

if TYPE_CHECKING:
    from spfbuild.catalogue import Catalogue
    from spfbuild.provider import Provider

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_IN_FLIGHT",
    "Finding",
    "ProviderIndex",
    "Report",
    "audit",
    "audit_many",
    "normalize_domain",
]

DEFAULT_CONCURRENCY = 200  # domains audited at once: the bulk fast path needs no option
# DNS questions on the wire at once, over every domain: each is a socket, and 1024 open files is a
# common default limit; past it questions would fail as temperrors that are not the domain's fault.
MAX_IN_FLIGHT = 256

_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")


@dataclass(frozen=True)
class Report:
    domain: str  # as given (surrounding space removed)
    record: str | None  # the SPF record found, if exactly one
    findings: tuple[Finding, ...]  # errors first, then warnings, then notes
    tree: Tree | None = None  # None when the name was not valid
    dmarc: DmarcCheck | None = None  # the DMARC record and its report destinations
    dkim: tuple[DkimCheck, ...] = ()  # the selectors of the providers the SPF tree includes

    @property
    def lookups(self) -> int:
        return self.tree.lookups if self.tree is not None else 0

    @property
    def void_lookups(self) -> int:
        return self.tree.void_lookups if self.tree is not None else 0

    @property
    def companion_findings(self) -> tuple[Finding, ...]:
        """What the DMARC record and the DKIM selectors show (reported under their own keys)."""
        found = self.dmarc.findings if self.dmarc is not None else ()
        return found + tuple(check.finding for check in self.dkim if check.finding is not None)

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in (*self.findings, *self.companion_findings))

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of `spfbuild check --json` for one domain."""
        return {
            "domain": self.domain,
            **({"domain_ascii": self.tree.domain} if self.tree is not None and not self.domain.isascii() else {}),
            "record": self.record,
            "lookups": self.lookups,
            "void_lookups": self.void_lookups,
            "findings": [f.to_dict() for f in self.findings],
            "tree": _node_dict(self.tree.root) if self.tree is not None else None,
            "dmarc": self.dmarc.to_dict() if self.dmarc is not None else None,
            "dkim": {
                "selectors": [check.to_dict() for check in self.dkim],
                "findings": [check.finding.to_dict() for check in self.dkim if check.finding is not None],
            },
        }


class ProviderIndex:
    """Which catalogue provider a DNS name belongs to: an include domain of the provider, or a
    name under the registered domain of one (its MX hosts, its other records). A registered
    domain shared by two providers identifies neither."""

    def __init__(self, catalogue: Catalogue):
        self._exact: dict[str, str] = {}
        self._entries: dict[str, Provider] = {provider.name: provider for provider in catalogue}
        self._published: asyncio.Future[tuple[IPNetwork, ...]] | None = None
        homes: dict[str, set[str]] = {}
        for provider in catalogue:
            names = [provider.include] if provider.include else []
            names += [target for _, target in provider.regions]
            names += [target for _, pairs in provider.variants for _, target in pairs]
            for name in names:
                self._exact[name] = provider.name
                homes.setdefault(organisational_domain(name), set()).add(provider.name)
        self._homes = {home: owners.pop() for home, owners in homes.items() if len(owners) == 1}

    async def published_ranges(self, walker: Walker) -> tuple[IPNetwork, ...]:
        """Every range the catalogue providers' records publish, as DNS gives them now: asked
        once per run, and only when a record holds a range that needs telling apart."""
        if self._published is None:
            self._published = asyncio.ensure_future(_published_ranges(tuple(self._exact), walker))
        return await asyncio.shield(self._published)

    def provider_of(self, name: str) -> str | None:
        name = normalize(name)
        if name in self._exact:
            return self._exact[name]
        labels = name.split(".")
        for start in range(len(labels) - 1):
            owner = self._homes.get(".".join(labels[start:]))
            if owner is not None:
                return owner
        return None

    def entry(self, name: str) -> Provider | None:
        """The catalogue entry of the provider `name` belongs to (see `provider_of`)."""
        owner = self.provider_of(name)
        return self._entries.get(owner) if owner is not None else None


async def _published_ranges(names: tuple[str, ...], walker: Walker) -> tuple[IPNetwork, ...]:
    roots = await asyncio.gather(*(walk(normalize(name), walker.resolver, walker) for name in names))
    found: list[IPNetwork] = []
    for tree in roots:
        for _, node in tree.nodes():
            if node.parsed is not None:
                found += [m.network for m in node.parsed.record.mechanisms
                          if m.network is not None and m.qualifier is Qualifier.PASS]
    return tuple(found)


async def _drop_providers_broad_ranges(found: list[Finding], record: str, providers: ProviderIndex,
                                       walker: Walker) -> list[Finding]:
    """A broad range a catalogue provider itself publishes (Microsoft's 40.92.0.0/15) is no
    finding: it is what a record flattened from that provider holds."""
    if not any(f.diagnostic.code == BROAD_RANGE.code for f in found):
        return found
    published = await providers.published_ranges(walker)
    parsed = parse(record_text(record))
    theirs = {span.column for term, span in zip(parsed.record.terms, parsed.spans, strict=True)
              if isinstance(term, Mechanism) and term.network is not None
              and any(_within(term.network, n) for n in published)}
    return [f for f in found if not (f.diagnostic.code == BROAD_RANGE.code and f.diagnostic.column in theirs)]


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def normalize_domain(text: str) -> tuple[str, str | None]:
    """(the name to query, why it is not a valid domain name or None). International names
    are turned into their ASCII (IDNA) form; underscores are allowed (_spf.example.com)."""
    name = text.strip().lower().removesuffix(".")
    try:
        name = to_ascii(name)  # IDNA 2008
    except IDNError as exc:
        return name, f"not a valid internationalised domain name: {exc.reason}"
    if (problem := name_problem(name)) is not None:  # what DNS cannot carry first: `a..b`, an empty label
        return name, problem
    if not _NAME.fullmatch(name):
        return name, "a domain name holds only letters, digits, hyphens and underscores, between dots"
    return name, domain_problem(name)


async def audit(
    domain: str, resolver: DNSResolver, providers: Providers | None = None, *, walker: Walker | None = None
) -> Report:
    """Audit the SPF policy `domain` publishes (`providers`: see `ProviderIndex`; `walker`, over
    the same resolver, shares resolved records with other audits of the run)."""
    given = domain.strip()
    name, problem = normalize_domain(given)
    if problem is not None:
        return Report(given, None, (rules.invalid_name(given, problem),))
    walker = walker or Walker(resolver)
    tree, spf_type, dmarc, known = await asyncio.gather(
        walk(name, resolver, walker), resolver.query(name, "SPF"), check_dmarc(name, resolver),
        early_dkim(name, walker, providers))
    dkim = await check_dkim(name, selectors_in(tree, providers), resolver, known)
    record = tree.root.record
    # Linted as DNS holds it: strings of at most 255 bytes (SPF517 gives the published sizes instead of SPF401).
    found = [Finding(d, (), name) for d in lint_value(record).diagnostics] if record is not None else []
    if record is not None and isinstance(providers, ProviderIndex):
        found = await _drop_providers_broad_ranges(found, record, providers, walker)
    found += rules.check_domain(tree, spf_type, providers)
    ordered = sorted(found, key=lambda f: f.diagnostic.severity.rank)  # stable: tree order within a severity
    return Report(given, record, tuple(ordered), tree, dmarc, dkim)


async def audit_many(
    domains: Iterable[str],
    resolver: DNSResolver,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    providers: Providers | None = None,
) -> AsyncIterator[Report]:
    """Audit `domains` with at most `concurrency` at once, yielding reports in input order.

    Audits start at most 2 x `concurrency` ahead of the report awaited next, so memory stays
    bounded however long the input is, while a slow domain at the head still lets the others run.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be 1 or more")
    shared = _Throttle(resolver, MAX_IN_FLIGHT)
    walker = Walker(shared)
    slots = asyncio.Semaphore(concurrency)

    async def one(domain: str) -> Report:
        async with slots:
            return await audit(domain, shared, providers, walker=walker)

    pending: deque[asyncio.Task[Report]] = deque()
    try:
        for domain in domains:
            pending.append(asyncio.ensure_future(one(domain)))
            if len(pending) >= 2 * concurrency:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for task in pending:  # the caller stopped early: do not leave audits running
            task.cancel()


class _Throttle:
    """Passes questions to the resolver with at most `limit` on the wire. A question already
    asked through the throttle waits for that answer without taking a slot, so popular provider
    records do not crowd out the rest."""

    def __init__(self, resolver: DNSResolver, limit: int):
        self._resolver = resolver
        self._slots = asyncio.Semaphore(limit)
        self._asking: dict[tuple[str, str], asyncio.Task[Answer]] = {}
        self._answers: dict[tuple[str, str], Answer] = {}  # a finished question keeps its answer, not its task

    async def query(self, name: str, rdtype: str) -> Answer:
        key = (normalize(name), rdtype.upper())
        known = self._answers.get(key)
        if known is not None:
            return known
        task = self._asking.get(key)
        if task is None:
            task = asyncio.ensure_future(self._ask(key, name, rdtype))
            self._asking[key] = task
        return await asyncio.shield(task)

    async def _ask(self, key: tuple[str, str], name: str, rdtype: str) -> Answer:
        async with self._slots:
            answer = await self._resolver.query(name, rdtype)
        self._answers[key] = answer
        del self._asking[key]
        return answer


# ---------------------------------------------------------------------- JSON shape


def _node_dict(node: Node) -> dict[str, object]:
    return {
        "domain": node.domain,
        "via": node.via,
        "status": node.status.value,
        "message": node.message,
        "record": node.record,
        "lookups": node.lookups,
        "terms": [_term_dict(term) for term in node.terms],
        "children": [_node_dict(child) for child in node.children],
    }


def _term_dict(term: TermLookup) -> dict[str, object]:
    return {
        "term": term.term,
        "target": term.target,
        "exchanges": list(term.exchanges),
        "addresses": list(term.addresses),
        "void": sorted(term.void),
        "errors": list(term.errors),
    }

