"""Range rules (SPF3xx): ip4/ip6 networks that are shadowed, redundant, too broad or not
publicly routable."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from spfbuild.diagnostics import Diagnostic
from spfbuild.record import IPNetwork, Mechanism, ParseResult, Span
from spfbuild.rules.registry import (
    BROAD_IP4_PREFIX,
    BROAD_IP6_PREFIX,
    BROAD_RANGE,
    HOST_BITS,
    NON_PUBLIC_RANGE,
    REDUNDANT_RANGE,
)

_SPECIAL_V4 = (
    ("private", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")),
    ("loopback", ("127.0.0.0/8",)),
    ("link-local", ("169.254.0.0/16",)),
    ("documentation", ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")),
    ("unspecified", ("0.0.0.0/8",)),
    ("multicast", ("224.0.0.0/4",)),
    ("reserved", ("240.0.0.0/4",)),
)
_SPECIAL_V6 = (
    ("loopback", ("::1/128",)),
    ("unspecified", ("::/128",)),
    ("unique-local (private)", ("fc00::/7",)),
    ("link-local", ("fe80::/10",)),
    ("documentation", ("2001:db8::/32", "3fff::/20")),
    ("multicast", ("ff00::/8",)),
)
_SPECIAL = tuple(
    (label, ipaddress.ip_network(net)) for label, nets in _SPECIAL_V4 + _SPECIAL_V6 for net in nets
)


def check(parsed: ParseResult) -> Iterator[Diagnostic]:
    ranges = [
        (i, term, span, term.network)
        for i, (term, span) in enumerate(zip(parsed.record.terms, parsed.spans, strict=True))
        if isinstance(term, Mechanism) and term.network is not None
    ]
    for index, term, span, network in ranges:
        assert network is not None
        yield from _broad(term, span, network)
        yield from _special(term, span, network)
        if term.address is not None and term.address != network.network_address:
            yield HOST_BITS(f"'{term}' has host bits set; it means {network}", column=span.column)
        covering = _covered_by(parsed, index, network)
        if covering is not None:
            yield REDUNDANT_RANGE(covering, column=span.column)


def _broad(term: Mechanism, span: Span, network: IPNetwork) -> Iterator[Diagnostic]:
    limit = BROAD_IP4_PREFIX if network.version == 4 else BROAD_IP6_PREFIX
    if network.prefixlen < limit:
        yield BROAD_RANGE(
            f"'{term}' covers {network.num_addresses:,} addresses (shorter than /{limit})", column=span.column
        )


def _special(term: Mechanism, span: Span, network: IPNetwork) -> Iterator[Diagnostic]:
    for label, special in _SPECIAL:
        if special.version == network.version and network.subnet_of(special):  # type: ignore[arg-type]
            yield NON_PUBLIC_RANGE(f"'{term}' is in the {label} range {special}", column=span.column)
            return


def _covered_by(parsed: ParseResult, index: int, network: IPNetwork) -> str | None:
    terms = parsed.record.terms
    term = terms[index]
    assert isinstance(term, Mechanism)
    for other in terms[:index]:
        if _covers(other, network):
            return f"'{term}' is never reached: the earlier '{other}' already matches all of it"
    for other in terms[index + 1 :]:
        if not isinstance(other, Mechanism):
            continue
        if _covers(other, network) and other.qualifier is term.qualifier:
            return f"'{term}' is redundant: the later '{other}' gives the same result for all of it"
        if other.network is None or _overlaps(other.network, network):
            # Something in between could match first; removing the range could change results.
            return None
    return None


def _covers(term: object, network: IPNetwork) -> bool:
    if not isinstance(term, Mechanism) or term.network is None:
        return False
    other = term.network
    return other.version == network.version and network.subnet_of(other)  # type: ignore[arg-type]


def _overlaps(a: IPNetwork, b: IPNetwork) -> bool:
    return a.version == b.version and a.overlaps(b)
