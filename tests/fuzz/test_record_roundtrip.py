"""Serializing a parsed record gives canonical text that parses back to the same record."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spfbuild.record import Mechanism, Modifier, Qualifier, Record, serialize
from spfbuild.recordparse import parse

labels = st.from_regex(r"[a-z0-9_][a-z0-9_-]{0,10}", fullmatch=True)
toplabels = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
domains = st.builds(lambda ls, top: ".".join([*ls, top]), st.lists(labels, min_size=1, max_size=3), toplabels)
macro_domains = st.sampled_from(["%{i}._spf.%{d}", "%{ir}.%{v}.%{d2}", "%{l1r-}.%{O}.example.com", "%{d}"])
qualifiers = st.sampled_from(list(Qualifier))


@st.composite
def mechanisms(draw: st.DrawFn) -> Mechanism:
    kind = draw(st.sampled_from(["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"]))
    q = draw(qualifiers)
    dom = draw(st.one_of(domains, macro_domains))
    if kind == "all":
        return Mechanism("all", q)
    if kind in ("include", "exists"):
        return Mechanism(kind, q, domain=dom)
    if kind == "ip4":
        addr = ipaddress.IPv4Address(draw(st.integers(0, 2**32 - 1)))
        return Mechanism(kind, q, address=addr, prefix4=draw(st.none() | st.integers(0, 32)))
    if kind == "ip6":
        addr6 = ipaddress.IPv6Address(draw(st.integers(0, 2**128 - 1)))
        return Mechanism(kind, q, address=addr6, prefix6=draw(st.none() | st.integers(0, 128)))
    optional = draw(st.none() | st.just(dom))
    if kind == "ptr":
        return Mechanism(kind, q, domain=optional)
    return Mechanism(
        kind, q, domain=optional,
        prefix4=draw(st.none() | st.integers(0, 32)), prefix6=draw(st.none() | st.integers(0, 128)),
    )


@st.composite
def records(draw: st.DrawFn) -> Record:
    terms: list[Mechanism | Modifier] = draw(st.lists(mechanisms(), max_size=8))
    if draw(st.booleans()):
        terms.append(Modifier("redirect", draw(domains)))
    if draw(st.booleans()):
        terms.append(Modifier("exp", draw(st.one_of(domains, macro_domains))))
    if draw(st.booleans()):
        terms.append(Modifier("x-note", draw(st.from_regex(r"[a-z0-9.:/]{0,8}", fullmatch=True))))
    return Record(tuple(terms))


@given(records())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_parse_of_serialize_is_identity(record: Record) -> None:
    result = parse(serialize(record))
    assert result.ok, result.diagnostics
    assert result.record == record


@given(st.text(max_size=80))
@settings(max_examples=500)
def test_parser_never_raises_on_any_text(text: str) -> None:
    result = parse(text)
    assert result.ok or result.diagnostics


@given(st.text(alphabet="v=spf1 :/.%{}-~?+aixmlndeclrptu0123456789", max_size=60))
@settings(max_examples=500)
def test_parser_never_raises_on_record_like_text(text: str) -> None:
    result = parse("v=spf1 " + text)
    for diag in result.diagnostics:
        assert 0 <= diag.column <= len(result.text) + 1
