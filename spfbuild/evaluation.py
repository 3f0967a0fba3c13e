"""RFC 7208 check_host(): evaluate the SPF policy of a domain for a connecting IP address.

`check_host()` never raises for anything DNS or the records do: every outcome is one of the
seven results, with the problem that caused a permerror or temperror, the lookups counted and a
trace of each record fetched and term tried. The mechanisms that query DNS are in
`spfbuild.mechanisms`; this module does record selection (4.4, 4.5), the term loop (4.6),
include (5.2), redirect (6.1) and explanations (6.2).
"""

from __future__ import annotations

import functools
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass

from spfbuild.intervals import V6_BASE
from spfbuild.macro import EXP_LETTERS, MacroError, expand, parse_macro_string
from spfbuild.mechanisms import (
    MAX_DNS_LOOKUPS,
    MAX_VOID_LOOKUPS,
    Abort,
    DNSResolver,
    Session,
    TraceEvent,
    domain_problem,
    match,
)
from spfbuild.record import IPAddress, Mechanism, Record, is_spf_record, parse
from spfbuild.regions import Region, region_of

__all__ = [
    "MAX_DNS_LOOKUPS",
    "MAX_VOID_LOOKUPS",
    "RESULTS",
    "DNSResolver",
    "Evaluation",
    "SharedResults",
    "Step",
    "TraceEvent",
    "check_host",
    "sender_address",
    "spf_identity",
]

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")


@dataclass(frozen=True)
class Step:
    """A term that decided a record's result: the mechanism that matched, or the redirect."""

    domain: str
    term: str

    def __str__(self) -> str:
        return f"{self.term} in {self.domain}"


@dataclass(frozen=True)
class Evaluation:
    result: str  # one of RESULTS
    explanation: str | None  # the expanded exp= text, only for fail; never a default text
    lookups: int  # DNS-querying terms evaluated (4.6.4)
    void_lookups: int
    trace: tuple[TraceEvent, ...]
    problem: str | None  # why: permerror, temperror, or none
    domain: str = ""
    matched: tuple[Step, ...] = ()  # outermost first: include/redirect, then what matched inside


@dataclass(frozen=True)
class _Verdict:
    result: str
    explanation: str | None = None
    matched: tuple[Step, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class _Shared:
    """A sub-evaluation's outcome and what it cost."""

    verdict: _Verdict | None
    abort: tuple[str, str] | None  # (result, problem) when it ended the evaluation
    lookups: int
    voids: int
    personal: bool  # a macro read the sender or the HELO name


class SharedResults:
    """The results of included and redirected records, shared between evaluations that see the
    same DNS: one record's result for one class of addresses is computed once, however many
    evaluations (of however many domains, at however many addresses) reach it.

    A class is an interval of the record's region (`spfbuild.regions`), inside which every
    address gets the same result; a record whose tree has no region (macros, `ptr`), and a
    redirect's target, whose explanation may spell the address, are keyed by address instead.
    An entry is exact: the evaluator is deterministic given the answers, the class, and (when a
    macro read them, which `Session.personal` counts) the sender and HELO name. It is used only
    when the evaluation has room left for the lookups and void lookups it cost (past a limit, the
    record is evaluated for real, to fail where a receiver would), never while tracing, and
    never stored when the resolver answered from its own records (`private_answers`: names whose
    answers differ between the evaluations sharing it); a region is used only by a resolver that
    has none of the names it read among its own (`private_names`)."""

    def __init__(self) -> None:
        self._general: dict[tuple[object, ...], _Shared] = {}
        self._personal: dict[tuple[object, ...], _Shared] = {}
        self._regions: dict[str, Region | None] = {}

    def key(self, session: Session, target: str, explain: bool) -> tuple[object, ...] | None:
        """What the result of `target` is shared under for this evaluation's address; None when
        the target's region is not known yet (`learn_key`)."""
        if explain:
            return self._exact(session, target, explain)
        if target not in self._regions:
            return None
        return self._key(session, target, self._regions[target])

    async def learn_key(self, session: Session, target: str) -> tuple[object, ...]:
        """`key` (for explain=False) once the target's region is found."""
        resolver = session.resolver
        private = getattr(resolver, "private_answers", 0)
        region = await region_of(resolver, target)
        if getattr(resolver, "private_answers", 0) != private:
            # The tree reads records the resolver gives for itself alone (a flattening's chained
            # records): keyed by address, and not walked again.
            region = None
        self._regions[target] = region
        return self._key(session, target, region)

    def _key(self, session: Session, target: str, region: Region | None) -> tuple[object, ...]:
        if region is None or not region.names.isdisjoint(getattr(session.resolver, "private_names", ())):
            return self._exact(session, target, False)
        ip = session.ip
        return (target, region.index(int(ip) + (0 if ip.version == 4 else V6_BASE)))

    @staticmethod
    def _exact(session: Session, target: str, explain: bool) -> tuple[object, ...]:
        return (target, session.ip.version, int(session.ip), explain)

    def find(self, session: Session, key: tuple[object, ...]) -> _Shared | None:
        found = self._general.get(key)
        if found is None and self._personal:
            found = self._personal.get((*key, session.sender, session.helo))
        if found is None:
            return None
        if session.lookups + found.lookups > session.max_lookups:
            return None
        if session.void_lookups + found.voids > session.max_void_lookups:
            return None
        return found

    def keep(self, session: Session, key: tuple[object, ...], entry: _Shared) -> None:
        if entry.personal:
            self._personal[(*key, session.sender, session.helo)] = entry
        else:
            self._general[key] = entry


def sender_address(ip: str | IPAddress) -> IPAddress:
    """The connecting address as SPF compares it: an IPv4-mapped IPv6 address is IPv4 (5.6).
    Raises ValueError when `ip` is not an address."""
    address = ipaddress.ip_address(ip.strip()) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def spf_identity(mailfrom: str, helo: str = "") -> tuple[str, str]:
    """(sender, domain) for check_host() from the SMTP MAIL FROM (RFC 7208 sections 2.4, 4.3).

    An empty MAIL FROM (a bounce) checks `postmaster@HELO`; a MAIL FROM without "@" is a domain
    with local-part "postmaster", as is one with an empty local-part; otherwise the local-part is
    the text before the first "@", verbatim."""
    if not mailfrom:
        return f"postmaster@{helo}", helo
    local, at, domain = mailfrom.partition("@")
    if not at:
        return f"postmaster@{mailfrom}", mailfrom
    return f"{local or 'postmaster'}@{domain}", domain


async def check_host(
    ip: str | IPAddress,
    domain: str,
    sender: str,
    resolver: DNSResolver,
    *,
    helo: str = "",
    receiver: str = "unknown",
    trace: Callable[[TraceEvent], None] | None = None,
    timestamp: int | None = None,
    max_lookups: int | None = None,
    max_void_lookups: int | None = None,
    keep_trace: bool = True,
    shared: SharedResults | None = None,
) -> Evaluation:
    """Evaluate `domain`'s SPF policy for `ip` (RFC 7208 section 4).

    `sender` is `local-part@domain` (see `spf_identity`); `trace`, if given, sees each event as
    it happens (they are all in `Evaluation.trace` too); `timestamp` is `%{t}`, default now.
    `max_lookups` and `max_void_lookups` replace the RFC's limits of 10 and 2 (None keeps them):
    for tools that want a policy's intent whatever its size, never for a receiver's verdict.
    `keep_trace=False` leaves `Evaluation.trace` empty (unless `trace` is given), for callers that
    evaluate many addresses and want only results. `shared` shares included and redirected
    records' results with other evaluations (see `SharedResults`). Raises ValueError only when
    `ip` is not an IP address."""
    session = Session(
        resolver=resolver,
        ip=sender_address(ip),
        sender=_full_sender(sender, domain),
        helo=helo,
        receiver=receiver,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        observer=trace,
        recording=keep_trace,
        max_lookups=MAX_DNS_LOOKUPS if max_lookups is None else max_lookups,
        max_void_lookups=MAX_VOID_LOOKUPS if max_void_lookups is None else max_void_lookups,
        shared=shared,
    )
    domain = domain.removesuffix(".")
    problem = domain_problem(domain)
    if problem is not None:
        verdict = _Verdict("none", problem=f"{domain!r} is not a valid domain name: {problem}")
    else:
        try:
            verdict = await _check(session, domain, 0, explain=True)
        except Abort as abort:
            verdict = _Verdict(abort.result, problem=abort.problem)
    if session.tracing:
        summary = verdict.result if verdict.problem is None else f"{verdict.result}: {verdict.problem}"
        session.emit(0, domain, "result", summary)
    return Evaluation(
        result=verdict.result,
        explanation=verdict.explanation,
        lookups=session.lookups,
        void_lookups=session.void_lookups,
        trace=tuple(session.events),
        problem=verdict.problem,
        domain=domain,
        matched=verdict.matched,
    )


def _full_sender(sender: str, domain: str) -> str:
    local, at, rest = sender.partition("@")
    if not at:
        return f"postmaster@{sender or domain}"
    return f"{local or 'postmaster'}@{rest}"


async def _check(session: Session, domain: str, depth: int, *, explain: bool) -> _Verdict:
    """check_host() for one domain: select its record, then evaluate it (4.4 to 4.7)."""
    record = await _record(session, domain, depth)
    if record is None:
        return _Verdict("none", problem=f"{domain} has no SPF record")
    tracing = session.tracing
    version, value = session.ip.version, int(session.ip)
    for term in record.mechanisms:
        if tracing:
            counted = f" (DNS lookup {session.lookups + 1})" if term.queries_dns else ""
            session.emit(depth, domain, "term", f"trying {term}{counted}")
        via: tuple[Step, ...] = ()
        span = term.span  # ip4/ip6: compared here, as integers; most terms tried are these
        if span is not None:
            matched = span[0] == version and span[1] <= value <= span[2]
        elif term.kind == "include":
            matched, via = await _include(session, term, domain, depth)
        else:
            matched = await match(session, term, domain, depth)
        if matched:
            result = term.qualifier.result
            if tracing:
                session.emit(depth, domain, "match", f"{term} matched: {result}")
            explanation = await _explain(session, record, domain, depth) if explain and result == "fail" else None
            return _Verdict(result, explanation, (Step(domain, str(term)), *via))
    # An `all` always matches, so a redirect is only reached (and only used) without one (5.1, 6.1).
    if record.redirect is not None:
        return await _redirect(session, record.redirect, domain, depth, explain=explain)
    session.emit(depth, domain, "match", "no mechanism matched: neutral")
    return _Verdict("neutral")


async def _record(session: Session, domain: str, depth: int) -> Record | None:
    """The one SPF record of `domain` (4.4, 4.5): TXT records only; several is permerror; any
    syntax error anywhere in it is permerror before anything is evaluated (4.6)."""
    answer = await session.resolver.query(domain, "TXT")
    if answer.is_temperror:
        session.emit(depth, domain, "dns", answer.message)
        raise Abort("temperror", answer.message)
    texts = _spf_texts(answer.strings)
    if len(texts) > 1:
        raise Abort("permerror", f"{domain} has {len(texts)} SPF records; there must be one")
    if not texts:
        why = answer.message if answer.is_void else f"{len(answer.records)} TXT records, none of them SPF"
        session.emit(depth, domain, "record", f"no SPF record ({why})")
        return None
    if session.tracing:
        session.emit(depth, domain, "record", f"record: {texts[0]}")
    parsed = parse(texts[0])
    if not parsed.ok:
        first = next(d for d in parsed.diagnostics if d.is_error)
        where = f" at column {first.column}" if first.column else ""
        raise Abort("permerror", f"syntax error in the SPF record of {domain}{where}: {first.message}")
    return parsed.record


@functools.lru_cache(maxsize=4096)
def _spf_texts(strings: tuple[str, ...]) -> tuple[str, ...]:  # cached: the self-check asks per address
    return tuple(text for text in strings if is_spf_record(text))


async def _include(
    session: Session, term: Mechanism, domain: str, depth: int
) -> tuple[bool, tuple[Step, ...]]:
    """5.2: pass matches; fail, softfail and neutral do not; temperror and permerror end the
    evaluation (they propagate as Abort); none is permerror."""
    session.count_lookup(str(term), depth, domain)
    target = await session.target(term.domain, domain)
    if target is None:
        raise Abort("permerror", f"{term} in {domain}: the target is not a valid domain name")
    inner = await _below(session, target, depth, explain=False)
    if inner.result == "none":
        raise Abort("permerror", f"{term} in {domain}: {target} has no SPF record")
    matched = inner.result == "pass"
    if session.tracing:
        session.emit(depth, domain, "include", f"{target} gave {inner.result}: {'match' if matched else 'no match'}")
    return matched, inner.matched


async def _below(session: Session, target: str, depth: int, *, explain: bool) -> _Verdict:
    """check_host() of an include's or redirect's target, from `session.shared` when it holds it."""
    shared = session.shared
    if not isinstance(shared, SharedResults) or session.tracing:
        return await _check(session, target, depth + 1, explain=explain)
    key = shared.key(session, target, explain) or await shared.learn_key(session, target)
    found = shared.find(session, key)
    if found is not None:
        session.lookups += found.lookups
        session.void_lookups += found.voids
        session.personal += found.personal  # what includes this record is personal too
        if found.abort is not None:
            raise Abort(*found.abort)
        assert found.verdict is not None
        return found.verdict
    lookups, voids, personal = session.lookups, session.void_lookups, session.personal
    private = getattr(session.resolver, "private_answers", 0)

    def keep(verdict: _Verdict | None, abort: tuple[str, str] | None) -> None:
        within = session.lookups <= session.max_lookups and session.void_lookups <= session.max_void_lookups
        if within and getattr(session.resolver, "private_answers", 0) == private:
            entry = _Shared(verdict, abort, session.lookups - lookups, session.void_lookups - voids,
                            session.personal != personal)
            shared.keep(session, key, entry)

    try:
        verdict = await _check(session, target, depth + 1, explain=explain)
    except Abort as abort:
        keep(None, (abort.result, abort.problem))
        raise
    keep(verdict, None)
    return verdict


async def _redirect(session: Session, spec: str, domain: str, depth: int, *, explain: bool) -> _Verdict:
    """6.1: the result is that of the target's policy; a target without one is permerror.
    The explanation, if any, comes from the target's exp= (6.2)."""
    term = f"redirect={spec}"
    session.count_lookup(term, depth, domain)
    target = await session.target(spec, domain)
    if target is None:
        raise Abort("permerror", f"{term} in {domain}: the target is not a valid domain name")
    session.emit(depth, domain, "redirect", f"no mechanism matched: redirect to {target}")
    inner = await _below(session, target, depth, explain=explain)
    if inner.result == "none":
        raise Abort("permerror", f"{term} in {domain}: {target} has no SPF record")
    return _Verdict(inner.result, inner.explanation, (Step(domain, term), *inner.matched), inner.problem)


async def _explain(session: Session, record: Record, domain: str, depth: int) -> str | None:
    """6.2: the exp= TXT record, expanded as an explain-string. Any problem fetching or
    expanding it means no explanation; the result stays fail either way."""
    if record.exp is None:
        return None
    target = await session.target(record.exp, domain)
    if target is None:
        session.emit(depth, domain, "explanation", f"exp={record.exp} is not a valid domain name")
        return None
    # Not counted as a DNS lookup: exp is fetched only after the result is known (4.6.4).
    answer = await session.query(target, "TXT", depth, domain)
    if not answer.ok or len(answer.strings) != 1:
        session.emit(depth, domain, "explanation", f"no explanation: {target} needs exactly one TXT record")
        return None
    parsed = parse_macro_string(answer.strings[0], letters=EXP_LETTERS, allow_space=True)
    if isinstance(parsed, MacroError):
        session.emit(depth, domain, "explanation", f"no explanation: {parsed.message}")
        return None
    text = expand(parsed, await session.context(domain, parsed.letters))
    session.emit(depth, domain, "explanation", f"explanation: {text}")
    return text
