"""RFC 7208 check_host(): evaluate the SPF policy of a domain for a connecting IP address.

`check_host()` never raises for anything DNS or the records do: every outcome is one of the
seven results, with the problem that caused a permerror or temperror, the lookups counted and a
trace of each record fetched and term tried. `check_hosts()` is the same evaluation for many
addresses at once: one walk of the records, in lanes of addresses that take the same path
(`spfbuild.mechanisms.Session`), giving each address what check_host() gives it. The mechanisms
that query DNS are in `spfbuild.mechanisms`; this module does record selection (4.4, 4.5), the
term loop (4.6), include (5.2), redirect (6.1) and explanations (6.2).
"""

from __future__ import annotations

import functools
import ipaddress
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

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
    may_spell_an_address,
    names_an_address,
    per_address,
)
from spfbuild.record import IPAddress, Mechanism, Record
from spfbuild.recordparse import is_spf_record, parse
from spfbuild.sharing import Shared, SharedResults, Step, Verdict

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
    "check_hosts",
    "check_points",
    "sender_address",
    "sender_point",
    "spf_identity",
]

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
# Nesting past this ends the evaluation with permerror. Under RFC 7208's limits it is never
# reached (10 lookups nest 10 deep); with the limits lifted (a declaration's intent) it stops an
# include loop where Python's stack would, with the result the lookup limit would give.
MAX_DEPTH = 100

Decided = tuple[Session, Verdict]  # a lane and the result of all its points
_MAPPED = 0xFFFF  # the 16 bits above an IPv4-mapped IPv6 address's IPv4 address
# A term's outcome for a lane: None (no match), the steps of a match, or a verdict ending it.
Tried = tuple[Session, "tuple[Step, ...] | Verdict | None"]


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


def sender_address(ip: str | IPAddress) -> IPAddress:
    """The connecting address as SPF compares it: an IPv4-mapped IPv6 address is IPv4 (5.6).
    Raises ValueError when `ip` is not an address."""
    address = ipaddress.ip_address(ip.strip()) if isinstance(ip, str) else ip
    version, value = sender_point(address.version, int(address))
    return address if version == address.version else ipaddress.IPv4Address(value)


def sender_point(version: int, value: int) -> tuple[int, int]:
    """(family, integer) of the connecting address as SPF compares it: an IPv4-mapped IPv6
    address (::ffff:0:0/96) is the IPv4 address it holds (5.6)."""
    if version == 6 and value >> 32 == _MAPPED:
        return 4, value & 0xFFFFFFFF
    return version, value


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
    address = sender_address(ip)
    lane = _lane(resolver, address.version, (int(address),), _full_sender(sender, domain), helo, receiver,
                 timestamp, max_lookups, max_void_lookups, shared, observer=trace, recording=keep_trace, ip=address)
    ((done, verdict),) = await _evaluate(lane, domain.removesuffix("."), explain=True)
    return _evaluation(done, verdict, domain.removesuffix("."))


async def check_hosts(
    ips: Iterable[str | IPAddress],
    domain: str,
    sender: str,
    resolver: DNSResolver,
    *,
    views: Callable[[IPAddress], DNSResolver] | None = None,
    helo: str = "",
    receiver: str = "unknown",
    timestamp: int | None = None,
    max_lookups: int | None = None,
    max_void_lookups: int | None = None,
    shared: SharedResults | None = None,
    explain: bool = True,
    steps: bool = True,
) -> list[Evaluation]:
    """`check_host()` of each of `ips`, in order, in one walk of the records: each address gets
    what check_host() gives it alone, without a trace. `views(ip)`, when given, is the resolver
    as the evaluation of `ip` sees it (it may answer a question that names the address as it
    would for that address alone); `resolver` answers the questions that name no address. With
    `explain=False` no exp= explanation is fetched, and with `steps=False` no deciding term is
    kept (`Evaluation.matched` is empty), so a run of ip4/ip6 terms of one qualifier is tried at
    once; results, problems and lookups are the same either way."""
    return await check_points([_key(ip) for ip in ips], domain, sender, resolver, views=views, helo=helo,
                              receiver=receiver, timestamp=timestamp, max_lookups=max_lookups,
                              max_void_lookups=max_void_lookups, shared=shared, explain=explain, steps=steps)


async def check_points(
    points: Sequence[tuple[int, int]],
    domain: str,
    sender: str,
    resolver: DNSResolver,
    *,
    views: Callable[[IPAddress], DNSResolver] | None = None,
    helo: str = "",
    receiver: str = "unknown",
    timestamp: int | None = None,
    max_lookups: int | None = None,
    max_void_lookups: int | None = None,
    shared: SharedResults | None = None,
    explain: bool = True,
    steps: bool = True,
) -> list[Evaluation]:
    """`check_hosts` of addresses given as (family, integer) points, for callers that compute
    with addresses as integers (the self-check samples thousands): no address object is made
    for a point unless a term reads it. An IPv4-mapped IPv6 point is its IPv4 address (5.6)."""
    keys = [sender_point(version, value) for version, value in points]
    name = domain.removesuffix(".")
    sender = _full_sender(sender, domain)
    found: dict[tuple[int, int], Evaluation] = {}
    for version in (4, 6):
        values = tuple(sorted({value for family, value in keys if family == version}))
        if not values:
            continue
        lane = _lane(resolver, version, values, sender, helo, receiver, timestamp, max_lookups, max_void_lookups,
                     shared, views=views, steps=steps)
        lanes = [lane]
        if views is not None and (len(values) == 1 or may_spell_an_address(name)):
            lanes = lane.apart()
        for start in lanes:
            for done, verdict in await _evaluate(start, name, explain=explain):
                evaluation = _evaluation(done, verdict, name)
                for value in done.values:
                    found[version, value] = evaluation
    return [found[key] for key in keys]


def _key(ip: str | IPAddress) -> tuple[int, int]:
    address = ipaddress.ip_address(ip.strip()) if isinstance(ip, str) else ip
    return address.version, int(address)


def _lane(resolver: DNSResolver, version: int, values: tuple[int, ...], sender: str, helo: str, receiver: str,
          timestamp: int | None, max_lookups: int | None, max_void_lookups: int | None,
          shared: SharedResults | None, *, observer: Callable[[TraceEvent], None] | None = None,
          recording: bool = False, views: Callable[[IPAddress], DNSResolver] | None = None, steps: bool = True,
          ip: IPAddress | None = None) -> Session:
    return Session(
        resolver=resolver,
        version=version,
        values=values,
        sender=sender,
        helo=helo,
        receiver=receiver,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        max_lookups=MAX_DNS_LOOKUPS if max_lookups is None else max_lookups,
        max_void_lookups=MAX_VOID_LOOKUPS if max_void_lookups is None else max_void_lookups,
        shared=shared,
        observer=observer,
        recording=recording,
        views=views,
        steps=steps,
        _ip=ip,
    )


async def _evaluate(lane: Session, domain: str, *, explain: bool) -> list[Decided]:
    problem = domain_problem(domain)
    if problem is not None:
        decided = [(lane, Verdict("none", problem=f"{domain!r} is not a valid domain name: {problem}"))]
    else:
        decided = await _check(lane, domain, 0, explain=explain)
    for done, verdict in decided:
        if done.tracing:
            summary = verdict.result if verdict.problem is None else f"{verdict.result}: {verdict.problem}"
            done.emit(0, domain, "result", summary)
    return decided


def _evaluation(lane: Session, verdict: Verdict, domain: str) -> Evaluation:
    return Evaluation(
        result=verdict.result,
        explanation=verdict.explanation,
        lookups=lane.lookups,
        void_lookups=lane.void_lookups,
        trace=tuple(lane.events),
        problem=verdict.problem,
        domain=domain,
        matched=verdict.matched,
    )


def _full_sender(sender: str, domain: str) -> str:
    local, at, rest = sender.partition("@")
    if not at:
        return f"postmaster@{sender or domain}"
    return f"{local or 'postmaster'}@{rest}"


def _ended(abort: Abort) -> Verdict:
    return Verdict(abort.result, problem=abort.problem)


async def _check(lane: Session, domain: str, depth: int, *, explain: bool) -> list[Decided]:
    """check_host() for one domain: select its record, then evaluate it (4.4 to 4.7), term by
    term for every lane still undecided."""
    if depth > lane.deepest:
        lane.deepest = depth
    try:
        record = await _record(lane, domain, depth)
    except Abort as abort:
        return [(lane, _ended(abort))]
    if record is None:
        return [(lane, Verdict("none", problem=f"{domain} has no SPF record"))]
    decided: list[Decided] = []
    pending = [lane]
    for run in record.mechanism_runs if not lane.steps else ((term,) for term in record.mechanisms):
        term = run[0]
        reached: list[Session] = []
        for current in pending:
            if current.tracing:
                counted = f" (DNS lookup {current.lookups + 1})" if term.queries_dns else ""
                current.emit(depth, domain, "term", f"trying {term}{counted}")
            tried = await _try(current, term, domain, depth) if len(run) == 1 else _try_run(current, run)
            for sub, outcome in tried:
                if outcome is None:
                    reached.append(sub)
                elif isinstance(outcome, Verdict):
                    decided.append((sub, outcome))
                else:
                    decided += await _matched(sub, term, outcome, record, domain, depth, explain=explain)
        pending = _merged(reached)
        if not pending:
            return decided
    for current in pending:
        # An `all` always matches, so a redirect is only reached (and only used) without one (5.1, 6.1).
        if record.redirect is not None:
            decided += await _redirect(current, record.redirect, domain, depth, explain=explain)
        else:
            current.emit(depth, domain, "match", "no mechanism matched: neutral")
            decided.append((current, Verdict("neutral")))
    return decided


def _merged(lanes: list[Session]) -> list[Session]:
    """Lanes in the same state (counters, resolver) joined again: the rest of the record is tried
    once for all their points."""
    if len(lanes) < 2:
        return lanes
    first: dict[tuple[int, int, int, int], Session] = {}
    out: list[Session] = []
    for lane in lanes:
        key = (id(lane.resolver), lane.lookups, lane.void_lookups, lane.personal)
        joined = first.get(key)
        if joined is None:
            first[key] = lane
            out.append(lane)
        else:
            joined.absorb(lane)
    return out


async def _try(lane: Session, term: Mechanism, domain: str, depth: int) -> list[Tried]:
    """The outcome of one term for each point of the lane."""
    if term.span is not None:  # ip4/ip6: compared as integers; most terms tried are these
        return _try_run(lane, (term,))
    if per_address(lane, term):
        tried: list[Tried] = []
        for one in lane.apart():
            tried += await _try(one, term, domain, depth)
        for sub, _ in tried:
            sub.rejoin(lane)
        return tried
    try:
        if term.kind == "include":
            return await _include(lane, term, domain, depth)
        return [(sub, _ended(hit) if isinstance(hit, Abort) else () if hit else None)
                for sub, hit in await match(lane, term, domain, depth)]
    except Abort as abort:
        return [(lane, _ended(abort))]


def _try_run(lane: Session, run: tuple[Mechanism, ...]) -> list[Tried]:
    """A run of ip4/ip6 terms of one qualifier at once (a run of more than one when no deciding
    term is kept): inside any of its ranges is the run's match."""
    inside, outside = lane.split(term.span for term in run)
    return [(sub, outcome) for sub, outcome in ((inside, ()), (outside, None)) if sub is not None]


async def _matched(lane: Session, term: Mechanism, via: tuple[Step, ...], record: Record, domain: str,
                   depth: int, *, explain: bool) -> list[Decided]:
    result = term.qualifier.result
    if lane.tracing:
        lane.emit(depth, domain, "match", f"{term} matched: {result}")
    if not explain or result != "fail" or record.exp is None:
        if not lane.steps:
            return [(lane, _decision("", "", result))]
        return [(lane, _decision(domain, str(term), result) if not via
                 else Verdict(result, None, (Step(domain, str(term)), *via)))]
    steps = (Step(domain, str(term)), *via) if lane.steps else ()
    # The explanation may spell the address: written for each point.
    return [(one, Verdict(result, await _explain(one, record, domain, depth), steps)) for one in lane.apart()]


@functools.lru_cache(maxsize=16384)  # a flattened record's every range decides some boundary's result
def _decision(domain: str, term: str, result: str) -> Verdict:
    """The verdict of a match of `term` in `domain`; without a term (""), of any match."""
    return Verdict(result, None, (Step(domain, term),) if term else ())


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


async def _include(lane: Session, term: Mechanism, domain: str, depth: int) -> list[Tried]:
    """5.2: pass matches; fail, softfail and neutral do not; temperror and permerror end the
    evaluation; none is permerror."""
    lane.count_lookup(str(term), depth, domain)
    target = await lane.target(term.domain, domain)
    if target is None:
        raise Abort("permerror", f"{term} in {domain}: the target is not a valid domain name")
    tried: list[Tried] = []
    for sub, inner in await _below(lane, target, depth, explain=False):
        if inner.ends_evaluation:
            tried.append((sub, inner))
        elif inner.result == "none":
            tried.append((sub, Verdict("permerror", problem=f"{term} in {domain}: {target} has no SPF record")))
        else:
            matched = inner.result == "pass"
            if sub.tracing:
                said = "match" if matched else "no match"
                sub.emit(depth, domain, "include", f"{target} gave {inner.result}: {said}")
            tried.append((sub, inner.matched if matched else None))
    return tried


async def _below(lane: Session, target: str, depth: int, *, explain: bool) -> list[Decided]:
    """check_host() of an include's or redirect's target, from `lane.shared` for the points whose
    result it holds; the others are evaluated once per key, and kept."""
    if depth >= MAX_DEPTH:
        lane.deepest = depth + 1
        return [(lane, Verdict("permerror", problem=f"{target}: includes and redirects nest over {MAX_DEPTH} deep"))]
    shared = lane.shared
    if not isinstance(shared, SharedResults) or lane.tracing:
        return await _check(lane, target, depth + 1, explain=explain)
    classes = await shared.classes(lane, target, explain)
    if classes is None:
        return await _check(lane, target, depth + 1, explain=explain)
    known, unknown = shared.sort_out(lane, classes, MAX_DEPTH - depth)
    missing = {values[0]: key for key, values in unknown}  # the point evaluated for a class -> its key
    members = dict(unknown)
    decided: list[Decided] = []
    for entry, points in known:
        sub = lane.fork(tuple(points))  # ascending: the classes come in order
        sub.lookups += entry.lookups
        sub.void_lookups += entry.voids
        sub.personal += entry.personal  # what includes this record is personal too
        decided.append((sub, entry.verdict))
    if not missing:
        return decided
    lookups, voids, personal = lane.lookups, lane.void_lookups, lane.personal
    private = getattr(lane.resolver, "private_answers", 0)
    for sub, verdict in await _check(lane.fork(tuple(sorted(missing))), target, depth + 1, explain=explain):
        storable = (sub.lookups <= sub.max_lookups and sub.void_lookups <= sub.max_void_lookups
                    and sub.deepest <= MAX_DEPTH and getattr(lane.resolver, "private_answers", 0) == private)
        sub_keys = [missing[value] for value in sub.values]
        if storable:
            entry = Shared(verdict, sub.lookups - lookups, sub.void_lookups - voids, sub.personal != personal,
                           max(sub.deepest - depth, 1))
            for key in sub_keys:
                shared.keep(sub, key, entry)
        every = tuple(sorted(value for key in sub_keys for value in members[key]))
        if len(every) != len(sub.values):  # the rest of each class the evaluated points stood for
            sub.cover(every)
        decided.append((sub, verdict))
    return decided


async def _redirect(lane: Session, spec: str, domain: str, depth: int, *, explain: bool) -> list[Decided]:
    """6.1: the result is that of the target's policy; a target without one is permerror.
    The explanation, if any, comes from the target's exp= (6.2)."""
    if not lane.single and names_an_address(lane, spec):
        decided: list[Decided] = []
        for one in lane.apart():
            decided += await _redirect(one, spec, domain, depth, explain=explain)
        return decided
    term = f"redirect={spec}"
    try:
        lane.count_lookup(term, depth, domain)
        target = await lane.target(spec, domain)
    except Abort as abort:
        return [(lane, _ended(abort))]
    if target is None:
        return [(lane, Verdict("permerror", problem=f"{term} in {domain}: the target is not a valid domain name"))]
    lane.emit(depth, domain, "redirect", f"no mechanism matched: redirect to {target}")
    decided = []
    for sub, inner in await _below(lane, target, depth, explain=explain):
        if inner.result == "none":
            inner = Verdict("permerror", problem=f"{term} in {domain}: {target} has no SPF record")
        elif not inner.ends_evaluation and sub.steps:
            inner = Verdict(inner.result, inner.explanation, (Step(domain, term), *inner.matched), inner.problem)
        decided.append((sub, inner))
    return decided


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
