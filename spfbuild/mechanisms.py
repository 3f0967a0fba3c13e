"""The state of one check_host() evaluation and the mechanisms that query DNS (RFC 7208 section 5).

`Session` holds what the whole evaluation shares: the resolver, the connection facts macros
expand from, the DNS-lookup and void-lookup counters of section 4.6.4, and the trace. The
record-level flow (record selection, include, redirect, exp) lives in `spfbuild.evaluation`.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

from spfbuild import limits
from spfbuild.dns import Answer
from spfbuild.dnsname import is_toplabel, name_problem
from spfbuild.intervals import address_of
from spfbuild.macro import DOMAIN_LETTERS, MacroContext, MacroError, expand, parse_macro_string, truncate_domain
from spfbuild.record import IPAddress, Mechanism, prefix_span

MAX_DNS_LOOKUPS = limits.MAX_LOOKUPS
MAX_VOID_LOOKUPS = limits.MAX_VOID_LOOKUPS
MAX_NAMES = limits.MAX_MX_NAMES  # the same 10 for MX names and PTR names (4.6.4)

# RFC 7208 section 7.1 toplabel: not all digits; hyphens only inside.


class DNSResolver(Protocol):
    """What the evaluator needs from a resolver: `spfbuild.dns.Resolver`, or a test double."""

    async def query(self, name: str, rdtype: str) -> Answer: ...


@dataclass(frozen=True)
class TraceEvent:
    """One step of an evaluation. `depth` is 0 for the first record, +1 per include/redirect."""

    depth: int
    domain: str
    kind: str  # record | term | dns | match | include | redirect | explanation | limit | result
    text: str
    lookups: int  # DNS-querying terms counted so far

    def __str__(self) -> str:
        return f"{'  ' * self.depth}[{self.domain}] {self.text}"


# Macro letters whose value is not a function of the client address and the current domain:
# the sender (s, l, o), the HELO name (h), and the explanation-only receiver and time (r, t).
_PERSONAL_LETTERS = frozenset("slohrtSLOHRT")


class Abort(Exception):  # control flow inside the evaluator; never escapes check_host()
    """Ends the evaluation at once with permerror or temperror (RFC 7208 sections 2.6.6, 2.6.7)."""

    def __init__(self, result: str, problem: str):
        super().__init__(problem)
        self.result = result
        self.problem = problem


@dataclass
class Session:
    """One lane of an evaluation: the addresses (`points`, one family, ascending) that have taken
    the same path through the records so far, so share the DNS-lookup and void-lookup counters of
    section 4.6.4 and the trace; and what the whole evaluation shares: the resolver, the
    connection facts macros expand from, the limits.

    check_host() of one address is a lane of one. Evaluating many addresses at once, a term is
    tried once for the whole lane where its outcome can differ between addresses only through the
    ranges it compares them with (ip4/ip6, the addresses of `a` and `mx`, an include's result):
    the lane splits where outcomes differ. A term whose question depends on the address (a macro,
    `ptr`, a name that may spell an address, explanations) is tried address by address, each in a
    lane of its own that asks through `views` (the resolver as one address's evaluation sees it)."""

    resolver: DNSResolver
    version: int  # the points' family
    values: tuple[int, ...]  # the points as integers, ascending
    sender: str  # local-part@domain
    helo: str
    receiver: str
    timestamp: int
    observer: Callable[[TraceEvent], None] | None = None
    recording: bool = True  # keep the trace in `events` (the self-check evaluates thousands of times without)
    max_lookups: int = MAX_DNS_LOOKUPS
    max_void_lookups: int = MAX_VOID_LOOKUPS
    lookups: int = 0
    void_lookups: int = 0
    events: list[TraceEvent] = field(default_factory=list)
    _validated: dict[tuple[IPAddress, str], str] = field(default_factory=dict)  # %{p} per (<ip>, <domain>)
    personal: int = 0  # macro expansions that read more of the session than the address and the domain
    shared: object | None = None  # a sharing.SharedResults, when sub-evaluations are shared between sessions
    views: Callable[[IPAddress], DNSResolver] | None = None  # per-address resolvers of a lane of many
    _ip: IPAddress | None = None  # `ip`, once made
    deepest: int = 0  # the deepest nesting of includes and redirects reached so far
    steps: bool = True  # keep the terms that decided (Evaluation.matched)
    tracing: bool = field(init=False, default=True)

    @property
    def ip(self) -> IPAddress:
        """The address of a lane of one (what macros, `ptr` and explanations read)."""
        if self._ip is None:
            self._ip = address_of(self.version, self.values[0])
        return self._ip

    @property
    def address_type(self) -> str:
        return "A" if self.version == 4 else "AAAA"

    def __post_init__(self) -> None:
        # Whether anyone sees trace events: callers skip building the text of one otherwise.
        self.tracing = self.recording or self.observer is not None

    def fork(self, values: tuple[int, ...]) -> Session:
        """A lane of the points `values` (ascending, some of this lane's), with its counters so far."""
        lane = object.__new__(Session)  # a plain copy: lanes split at nearly every matching term
        lane.__dict__.update(self.__dict__)
        lane.values, lane._ip = values, None
        return lane

    @property
    def single(self) -> bool:
        """Whether this is a lane of one address asking through that address's own resolver."""
        return self.views is None and len(self.values) == 1

    def rejoin(self, lane: Session) -> None:
        """Ask through `lane`'s resolver again, after a term tried address by address (`apart`):
        a view answers for itself only what names its address, which that term asked, so lanes
        that differ in nothing but their views merge again for the terms after it."""
        self.resolver, self.views = lane.resolver, lane.views

    def apart(self) -> list[Session]:
        """Each point in a lane of its own, asking through its own view (see `rejoin`)."""
        if self.single:
            return [self]
        lanes = []
        for value in self.values:
            lane = self.fork((value,))
            if self.views is not None:
                lane.resolver, lane.views = self.views(lane.ip), None
            lanes.append(lane)
        return lanes

    def absorb(self, other: Session) -> None:
        """Take in the points of `other`, a lane in the same state (counters and resolver)."""
        self.cover(tuple(sorted(self.values + other.values)))

    def cover(self, values: tuple[int, ...]) -> None:
        """Make the lane's points `values` (ascending): points known to share its state."""
        self.values, self._ip = values, None

    def split(self, spans: Iterable[tuple[int, int, int] | None]) -> tuple[Session | None, Session | None]:
        """(the lane of the points inside any of `spans`, the lane of the others); either is None
        when empty, and the one that holds every point is this lane itself."""
        version, values = self.version, self.values
        if len(values) == 1:  # check_host() of one address: most terms tried are this
            value = values[0]
            hit = any(s is not None and s[0] == version and s[1] <= value <= s[2] for s in spans)
            return (self, None) if hit else (None, self)
        cuts = sorted((bisect.bisect_left(values, s[1]), bisect.bisect_right(values, s[2]))
                      for s in spans if s is not None and s[0] == version)
        inside: list[int] = []
        outside: list[int] = []
        at = 0
        for low, high in cuts:
            if high <= at:
                continue
            low = max(low, at)
            outside.extend(values[at:low])
            inside.extend(values[low:high])
            at = high
        if not inside:
            return None, self
        if len(inside) == len(values):
            return self, None
        outside.extend(values[at:])
        matched = self.fork(tuple(inside))
        self.cover(tuple(outside))
        return matched, self

    def emit(self, depth: int, domain: str, kind: str, text: str) -> None:
        if not self.tracing:
            return
        event = TraceEvent(depth, domain, kind, text, self.lookups)
        self.events.append(event)
        if self.observer is not None:
            self.observer(event)

    def count_lookup(self, term: str, depth: int, domain: str) -> None:
        self.lookups += 1
        if self.lookups > self.max_lookups:
            self.emit(depth, domain, "limit", f"{term} would be DNS lookup {self.lookups}")
            problem = f"over {self.max_lookups} DNS lookups: {term} in {domain} would be number {self.lookups}"
            raise Abort("permerror", problem)

    def count_void(self, name: str, depth: int, domain: str) -> None:
        self.void_lookups += 1
        if self.void_lookups > self.max_void_lookups:
            self.emit(depth, domain, "limit", f"void lookup {self.void_lookups} for {name}")
            problem = f"over {self.max_void_lookups} void DNS lookups: {name} is void lookup {self.void_lookups}"
            raise Abort("permerror", problem)

    async def query(self, name: str, rdtype: str, depth: int, domain: str) -> Answer:
        answer = await self.resolver.query(name, rdtype)
        if self.tracing:
            self.emit(depth, domain, "dns", _describe(answer))
        return answer

    async def required(self, name: str, rdtype: str, depth: int, domain: str) -> Answer:
        """A query whose failure ends the evaluation with temperror (RFC 7208 section 5)."""
        answer = await self.query(name, rdtype, depth, domain)
        if answer.is_temperror:
            raise Abort("temperror", answer.message)
        return answer

    # ------------------------------------------------------------------ macros

    async def context(self, domain: str, letters: Iterable[str]) -> MacroContext:
        letters = set(letters)
        if letters & _PERSONAL_LETTERS:
            self.personal += 1
        ctx = MacroContext(
            sender=self.sender, ip=self.ip, domain=domain, helo=self.helo,
            receiver=self.receiver, timestamp=self.timestamp,
        )
        if "p" in letters:  # needs DNS, so only when the text uses it (7.3)
            ctx = replace(ctx, validated_name=await self.validated_name(domain))
        return ctx

    async def target(self, spec: str | None, domain: str) -> str | None:
        """The <target-name> of a mechanism or modifier: its domain-spec expanded (or the current
        domain), truncated to 253 characters (7.3), trailing dot dropped; None when DNS cannot
        carry it, which the caller treats as a name that does not exist."""
        if spec is None:
            return domain
        literal, name = literal_target(spec)
        if literal:
            return name
        parsed = parse_macro_string(spec, letters=DOMAIN_LETTERS)
        if isinstance(parsed, MacroError):  # the record parser already refused these
            raise Abort("permerror", f"invalid domain-spec {spec!r}: {parsed.message}")
        return _target_name(expand(parsed, await self.context(domain, parsed.letters)))

    async def validated_name(self, domain: str) -> str:
        """%{p}: a PTR name of <ip> that resolves back to it; <domain> itself or a subdomain of it
        preferred; "unknown" when there is none or DNS fails (7.3)."""
        key = (self.ip, domain)
        if key not in self._validated:
            names = await self.ptr_names(0, domain, count_void=False)
            ranked = sorted(names, key=lambda n: 0 if n == domain else 1 if is_subdomain(n, domain) else 2)
            found = "unknown"
            for name in ranked:
                if await self.validates(name):
                    found = name
                    break
            self._validated[key] = found
        return self._validated[key]

    async def ptr_names(self, depth: int, domain: str, *, count_void: bool) -> list[str]:
        """The first 10 names the PTR lookup of <ip> gives (4.6.4); none when DNS fails (5.5)."""
        answer = await self.query(self.ip.reverse_pointer, "PTR", depth, domain)
        if answer.is_void and count_void:
            self.count_void(self.ip.reverse_pointer, depth, domain)
        names = [n.lower().removesuffix(".") for n in answer.strings[:MAX_NAMES]]
        return [n for n in names if name_problem(n) is None]

    async def validates(self, name: str) -> bool:
        """Whether `name` resolves to <ip>; a DNS error just means no (5.5)."""
        answer = await self.resolver.query(name, self.address_type)
        return answer.ok and any(_same_address(a, self.ip) for a in answer.strings)


@functools.lru_cache(maxsize=4096)
def literal_target(spec: str) -> tuple[bool, str | None]:
    """(True, the <target-name>) for a domain-spec without macro-expands, the same in every
    evaluation (escapes such as %% still resolved); (False, None) for one with macro-expands or
    that does not parse."""
    parsed = parse_macro_string(spec, letters=DOMAIN_LETTERS)
    if isinstance(parsed, MacroError) or parsed.literal is None:
        return False, None
    return True, _target_name(parsed.literal)


def _target_name(name: str) -> str | None:
    """An expanded domain-spec as a <target-name>: truncated to 253 characters, trailing dot
    dropped; None when DNS cannot carry it."""
    name = truncate_domain(name).removesuffix(".")
    return name if name_problem(name) is None else None


# ---------------------------------------------------------------------- mechanisms

Matches = list[tuple[Session, "bool | Abort"]]  # each lane's outcome: matched, not, or the end of it


def per_address(session: Session, mech: Mechanism) -> bool:
    """Whether `mech` must be tried address by address in this lane: a macro or `ptr` asks per
    address, and so does a name that may spell an address where each address has its own view."""
    if session.single:
        return False
    if mech.kind == "ptr" or mech.has_macros:
        return True
    return mech.domain is not None and names_an_address(session, mech.domain)


def names_an_address(session: Session, spec: str) -> bool:
    """Whether a lane of many must ask the target of the domain-spec `spec` per address."""
    if "%" in spec:
        return True
    if session.views is None:
        return False
    _, name = literal_target(spec)
    return name is not None and may_spell_an_address(name)


async def match(session: Session, mech: Mechanism, domain: str, depth: int) -> Matches:
    """Whether a mechanism other than include matches each point of the lane (RFC 7208 sections
    5.1 and 5.3-5.7); raises Abort when it ends the evaluation of the whole lane."""
    if mech.kind == "all":
        return [(session, True)]
    if mech.kind in ("ip4", "ip6"):
        return _outcomes(session.split((mech.span,)))
    session.count_lookup(str(mech), depth, domain)
    target = await session.target(mech.domain, domain)
    if target is None:
        session.emit(depth, domain, "dns", f"{mech.domain!r} does not expand to a valid DNS name")
        session.count_void(str(mech.domain), depth, domain)
        return [(session, False)]
    if mech.kind == "a":
        return await _match_a(session, mech, target, depth, domain)
    if mech.kind == "mx":
        return await _match_mx(session, mech, target, depth, domain)
    if mech.kind == "ptr":
        return [(session, await _match_ptr(session, target, depth, domain))]
    if mech.kind == "exists":
        return [(session, await _match_exists(session, target, depth, domain))]
    raise ValueError(f"not a mechanism match() evaluates: {mech.kind}")


def _outcomes(parts: tuple[Session | None, Session | None]) -> Matches:
    inside, outside = parts
    found: Matches = []
    if inside is not None:
        found.append((inside, True))
    if outside is not None:
        found.append((outside, False))
    return found


async def _match_a(session: Session, mech: Mechanism, target: str, depth: int, domain: str) -> Matches:
    answer = await session.required(target, session.address_type, depth, domain)
    if answer.is_void:
        session.count_void(target, depth, domain)
    prefix = _prefix(mech, session.version)
    return _outcomes(session.split(_span(text, prefix) for text in answer.strings))


async def _match_mx(session: Session, mech: Mechanism, target: str, depth: int, domain: str) -> Matches:
    answer = await session.required(target, "MX", depth, domain)
    if answer.is_void:
        session.count_void(target, depth, domain)
        return [(session, False)]
    if len(answer.exchanges) > MAX_NAMES:
        raise Abort("permerror", f"{target} has {len(answer.exchanges)} MX names; the limit is {MAX_NAMES}")
    names: list[str] = []
    for mx in sorted(answer.exchanges, key=lambda mx: mx.preference):
        name = mx.exchange.lower().removesuffix(".")
        # A null MX (RFC 7505) or a name DNS cannot carry has no addresses to compare.
        if name and name != "." and name_problem(name) is None and name not in names:
            names.append(name)
    if session.views is not None and any(map(may_spell_an_address, names)):
        found: Matches = []
        for lane in session.apart():
            found += await _exchanges(lane, mech, names, depth, domain)
        return found
    return await _exchanges(session, mech, names, depth, domain)


async def _exchanges(session: Session, mech: Mechanism, names: list[str], depth: int, domain: str) -> Matches:
    # Asked together; judged in preference order, so the first error or match decides.
    answers = await asyncio.gather(*(session.query(n, session.address_type, depth, domain) for n in names))
    prefix = _prefix(mech, session.version)
    found: Matches = []
    rest: Session | None = session
    for answer in answers:
        if rest is None:
            break
        if answer.is_temperror:
            return [*found, (rest, Abort("temperror", answer.message))]
        inside, rest = rest.split(_span(text, prefix) for text in answer.strings)
        if inside is not None:
            found.append((inside, True))
    return found if rest is None else [*found, (rest, False)]


async def _match_ptr(session: Session, target: str, depth: int, domain: str) -> bool:
    names = await session.ptr_names(depth, domain, count_void=True)
    # Only names in <target-name> could match, so only they are validated (fewer queries, same result).
    candidates = [n for n in names if n == target.lower() or is_subdomain(n, target)]
    checks = await asyncio.gather(*(session.validates(n) for n in candidates))
    for name, valid in zip(candidates, checks, strict=True):
        session.emit(depth, domain, "dns", f"PTR name {name} {'validates' if valid else 'does not validate'}")
        if valid:
            return True
    return False


async def _match_exists(session: Session, target: str, depth: int, domain: str) -> bool:
    # Always an A query, whatever the sender's address family (5.7).
    answer = await session.required(target, "A", depth, domain)
    if answer.is_void:
        session.count_void(target, depth, domain)
    return answer.ok


# ---------------------------------------------------------------------- names and addresses


@functools.lru_cache(maxsize=8192)  # the same names are asked by evaluation after evaluation
def may_spell_an_address(name: str) -> bool:
    """Whether a name holds four decimal labels in a row, eight single-hex-digit labels in a
    row, or a colon: how an IPv4 or IPv6 address is written into a name."""
    if ":" in name:
        return True
    decimal = nibbles = 0
    for label in name.split("."):
        decimal = decimal + 1 if label.isdigit() and len(label) <= 3 else 0
        nibbles = nibbles + 1 if len(label) == 1 and label in "0123456789abcdefABCDEF" else 0
        if decimal >= 4 or nibbles >= 8:
            return True
    return False


@functools.lru_cache(maxsize=1024)  # the self-check starts thousands of evaluations at one domain
def domain_problem(domain: str) -> str | None:
    """Why `domain` cannot start check_host() (4.3): malformed, or not a multi-label domain name."""
    name = domain.removesuffix(".")
    problem = name_problem(name)
    if problem is not None:
        return problem
    if "." not in name:
        return "not a multi-label domain name"
    if not is_toplabel(name.rsplit(".", 1)[1]):
        return "top label is not a valid domain label"
    return None


def is_subdomain(name: str, parent: str) -> bool:
    return name.lower().endswith("." + parent.lower().removesuffix("."))


def _prefix(mech: Mechanism, version: int) -> int:
    if version == 4:
        return 32 if mech.prefix4 is None else mech.prefix4
    return 128 if mech.prefix6 is None else mech.prefix6


@functools.lru_cache(maxsize=8192)  # the same A/AAAA answers are compared with address after address
def _span(text: str, prefix: int) -> tuple[int, int, int] | None:
    """(version, first, last) of the network of `prefix` bits around the address `text`; None
    when `text` is not an address or the prefix does not fit it."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return prefix_span(address, prefix) if prefix <= address.max_prefixlen else None


def _same_address(text: str, ip: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False


def _describe(answer: Answer) -> str:
    if answer.ok:
        shown = ", ".join(str(r) for r in answer.records[:6])
        more = f" (+{len(answer.records) - 6} more)" if len(answer.records) > 6 else ""
        return f"{answer.name} {answer.rdtype}: {shown}{more}"
    return answer.message
