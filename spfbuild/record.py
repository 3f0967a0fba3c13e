"""The SPF record model (RFC 7208 sections 4.6, 5, 6 and 12): immutable terms, records and the
canonical text of each. `spfbuild.recordparse` reads record text into them.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum

from spfbuild.diagnostics import Diagnostic, has_errors

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Qualifier(StrEnum):
    PASS = "+"
    FAIL = "-"
    SOFTFAIL = "~"
    NEUTRAL = "?"

    @property
    def result(self) -> str:
        """The check_host() result a match with this qualifier gives."""
        return _RESULTS[self]


_RESULTS = {
    Qualifier.PASS: "pass",
    Qualifier.FAIL: "fail",
    Qualifier.SOFTFAIL: "softfail",
    Qualifier.NEUTRAL: "neutral",
}

MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
DNS_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})


def prefix_span(address: IPAddress, prefix: int | None = None) -> tuple[int, int, int]:
    """(version, first, last) of the network of `prefix` bits (every bit when None) around
    `address`, as integers within its family: host bits cleared, as receivers compare. Arithmetic
    on the address's integer, with no network object: ip4/ip6 terms and a/mx answers are read
    for it address after address."""
    bits = address.max_prefixlen
    host = (1 << (bits - (bits if prefix is None else prefix))) - 1
    first = int(address) & ~host
    return address.version, first, first | host


@dataclass(frozen=True)
class Mechanism:
    """A directive: qualifier + mechanism. Fields unused by a kind stay None."""

    kind: str
    qualifier: Qualifier = Qualifier.PASS
    domain: str | None = None  # domain-spec as written (may hold macros)
    address: IPAddress | None = None  # ip4 / ip6
    prefix4: int | None = None  # ip4 prefix, or the IPv4 cidr of a / mx
    prefix6: int | None = None  # ip6 prefix, or the IPv6 cidr of a / mx

    @functools.cached_property
    def network(self) -> IPNetwork | None:
        """The network of an ip4/ip6 mechanism (host bits cleared, as receivers compare)."""
        if self.address is None:
            return None
        prefix = self.prefix4 if self.kind == "ip4" else self.prefix6
        if prefix is None:
            prefix = self.address.max_prefixlen
        # From the integer: four times faster than from text, for every range of every config.
        family = ipaddress.IPv4Network if self.address.version == 4 else ipaddress.IPv6Network
        return family((int(self.address), prefix), strict=False)

    @functools.cached_property
    def span(self) -> tuple[int, int, int] | None:
        """(IP version, first, last address as integers) of an ip4/ip6 mechanism's network: the
        evaluator's membership test, which runs for nearly every term it tries. Computed from the
        address's integer, without a network object: every flattened record is read for it."""
        if self.address is None:
            return None
        return prefix_span(self.address, self.prefix4 if self.kind == "ip4" else self.prefix6)

    @property
    def queries_dns(self) -> bool:
        return self.kind in DNS_MECHANISMS

    @property
    def names_current_domain(self) -> bool:
        """Whether the term means something else in another record: it has no domain-spec (a,
        mx, ptr of the domain being evaluated) or its domain-spec uses %{d}. Such a term cannot
        move into a record the evaluation reaches through `redirect=`, which changes the domain."""
        if self.kind in ("ip4", "ip6", "all"):
            return False
        if self.domain is None:
            return True
        return re.search(r"%\{d", self.domain, re.IGNORECASE) is not None

    @property
    def has_macros(self) -> bool:
        return self.domain is not None and "%" in self.domain

    def __str__(self) -> str:
        return self._text

    @functools.cached_property
    def _text(self) -> str:  # computed once: the evaluator's trace names terms over and over
        out = "" if self.qualifier is Qualifier.PASS else self.qualifier.value
        out += self.kind
        if self.kind in ("ip4", "ip6"):
            out += f":{self.address}"
            prefix = self.prefix4 if self.kind == "ip4" else self.prefix6
            if prefix is not None:
                out += f"/{prefix}"
            return out
        if self.domain is not None:
            out += f":{self.domain}"
        if self.prefix4 is not None:
            out += f"/{self.prefix4}"
        if self.prefix6 is not None:
            out += f"//{self.prefix6}"
        return out


@dataclass(frozen=True)
class Modifier:
    name: str  # lower case
    value: str

    @property
    def queries_dns(self) -> bool:
        return self.name == "redirect"

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


Term = Mechanism | Modifier


@dataclass(frozen=True)
class Record:
    terms: tuple[Term, ...] = ()

    @functools.cached_property
    def mechanisms(self) -> tuple[Mechanism, ...]:  # cached: the evaluator loops over them per address
        return tuple(t for t in self.terms if isinstance(t, Mechanism))

    @functools.cached_property
    def mechanism_runs(self) -> tuple[tuple[Mechanism, ...], ...]:
        """The mechanisms in order, each run of ip4/ip6 terms of one qualifier together: a run
        gives one result to every address inside any of its ranges, whichever range it is in."""
        runs: list[list[Mechanism]] = []
        for mech in self.mechanisms:
            last = runs[-1][-1] if runs else None
            if (last is not None and mech.span is not None and last.span is not None
                    and mech.qualifier is last.qualifier):
                runs[-1].append(mech)
            else:
                runs.append([mech])
        return tuple(tuple(run) for run in runs)

    @property
    def modifiers(self) -> tuple[Modifier, ...]:
        return tuple(t for t in self.terms if isinstance(t, Modifier))

    def modifier(self, name: str) -> str | None:
        for term in self.terms:
            if isinstance(term, Modifier) and term.name == name:
                return term.value
        return None

    @functools.cached_property  # cached, as `mechanisms`: asked per record the evaluator visits
    def redirect(self) -> str | None:
        return self.modifier("redirect")

    @functools.cached_property
    def exp(self) -> str | None:
        return self.modifier("exp")

    @property
    def dns_lookups(self) -> int:
        """DNS-querying terms in this record alone (RFC 7208 section 4.6.4)."""
        return sum(1 for t in self.terms if t.queries_dns)

    def __str__(self) -> str:
        return " ".join(["v=spf1", *(str(t) for t in self.terms)])


@dataclass(frozen=True)
class Span:
    start: int  # 0-based offset into ParseResult.text
    end: int

    @property
    def column(self) -> int:
        return self.start + 1


@dataclass(frozen=True)
class ParseResult:
    text: str
    record: Record
    spans: tuple[Span, ...]  # one per record term
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    @functools.cached_property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def serialize(record: Record) -> str:
    """Canonical text: lower-case names, `+` omitted, addresses in canonical form."""
    return str(record)
