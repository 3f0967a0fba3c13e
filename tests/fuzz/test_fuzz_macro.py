"""Fuzzing the RFC 7208 section 7 macro language: the parser on any text, the expander on any
macro-string and any identity (MAIL FROM, HELO, client address), and check_host() on records
full of macros with arbitrary identities.

Example counts come from the hypothesis profile (tests/conftest.py): HYPOTHESIS_PROFILE=long
runs many more.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support.memresolver import MemoryResolver

from spfbuild.evaluation import RESULTS, check_host, sender_address, spf_identity
from spfbuild.macro import (
    DELIMITERS,
    DOMAIN_LETTERS,
    EXP_LETTERS,
    Expand,
    Literal,
    MacroContext,
    MacroError,
    MacroString,
    expand,
    parse_macro_string,
    transform,
    truncate_domain,
)

# ---------------------------------------------------------------- strategies

ipv4 = st.builds(ipaddress.IPv4Address, st.integers(0, 2**32 - 1))
ipv6 = st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1))
addresses = st.one_of(ipv4, ipv6)
# Identities as they arrive from SMTP: anything, including octets that are not UTF-8 (kept as
# surrogates), several "@", empty parts, dots in odd places.
wild_text = st.text(st.characters(codec="utf-8") | st.sampled_from(["@", ".", "%", "\udcff", "\udc80"]), max_size=40)
labelish = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
domainish = st.builds(".".join, st.lists(labelish, min_size=1, max_size=5))
identities = st.one_of(wild_text, st.builds(lambda a, b: f"{a}@{b}", wild_text, domainish), domainish)


@st.composite
def expands(draw: st.DrawFn, letters: frozenset[str] = DOMAIN_LETTERS) -> str:
    letter = draw(st.sampled_from(sorted(letters)))
    letter = letter.upper() if draw(st.booleans()) else letter
    digits = draw(st.sampled_from(["", "1", "2", "3", "9", "128"]))
    reverse = draw(st.sampled_from(["", "r", "R"]))
    delimiters = "".join(draw(st.lists(st.sampled_from(sorted(DELIMITERS)), max_size=3)))
    return f"%{{{letter}{digits}{reverse}{delimiters}}}"


literal_chars = st.sampled_from([chr(c) for c in range(0x21, 0x7F) if chr(c) != "%"])


@st.composite
def macro_strings(draw: st.DrawFn, letters: frozenset[str] = DOMAIN_LETTERS) -> str:
    """Well-formed macro-strings, from the RFC 7208 section 7.1 grammar."""
    pieces = draw(st.lists(st.one_of(
        st.text(literal_chars, min_size=1, max_size=6),
        st.sampled_from(["%%", "%_", "%-"]),
        expands(letters),
    ), max_size=6))
    return "".join(pieces)


def contexts() -> st.SearchStrategy[MacroContext]:
    return st.builds(
        MacroContext, sender=identities, ip=addresses, domain=st.one_of(domainish, wild_text), helo=wild_text,
        receiver=st.one_of(st.just("unknown"), domainish), timestamp=st.integers(0, 2**40),
        validated_name=st.one_of(st.just("unknown"), domainish),
    )


# ---------------------------------------------------------------- parsing


@given(st.text(max_size=60), st.booleans(), st.sampled_from([DOMAIN_LETTERS, EXP_LETTERS]))
@settings()
def test_parsing_any_text_gives_a_macro_string_or_an_error_at_an_offset_inside_it(
    text: str, allow_space: bool, letters: frozenset[str]
) -> None:
    parsed = parse_macro_string(text, letters=letters, allow_space=allow_space)
    if isinstance(parsed, MacroError):
        assert 0 <= parsed.offset < len(text)
        assert parsed.message and "\n" not in parsed.message
    else:
        assert isinstance(parsed, MacroString)


@given(st.text(alphabet="%{}slodiphvcrtSLODIPHVCRT0123456789r.-+,/_=a x", max_size=40))
@settings()
def test_parsing_macro_like_text_never_raises(text: str) -> None:
    for letters in (DOMAIN_LETTERS, EXP_LETTERS):
        parsed = parse_macro_string(text, letters=letters, allow_space=letters is EXP_LETTERS)
        assert isinstance(parsed, MacroString | MacroError)


def _source(parsed: MacroString) -> str:
    return "".join(p.text if isinstance(p, Literal) else str(p) for p in parsed.parts)


@given(macro_strings())
@settings()
def test_well_formed_macro_strings_parse_and_print_back_unchanged(text: str) -> None:
    parsed = parse_macro_string(text)
    assert isinstance(parsed, MacroString), parsed
    # Upper case `R` is the same transformer as `r`; everything else prints back as written.
    assert _source(parsed) == re.sub(r"(%\{[A-Za-z][0-9]*)R", r"\1r", text)
    assert parse_macro_string(_source(parsed)) == parsed


@given(macro_strings(EXP_LETTERS))
@settings()
def test_explanation_letters_are_refused_in_domain_specs(text: str) -> None:
    explanation = parse_macro_string(text, letters=EXP_LETTERS)
    assert isinstance(explanation, MacroString)
    domain = parse_macro_string(text, letters=DOMAIN_LETTERS)
    assert isinstance(domain, MacroError) == bool(explanation.letters - DOMAIN_LETTERS)


# ---------------------------------------------------------------- expanding


@given(macro_strings(EXP_LETTERS), contexts())
@settings()
def test_expanding_any_macro_string_for_any_identity_never_raises(text: str, ctx: MacroContext) -> None:
    parsed = parse_macro_string(text, letters=EXP_LETTERS)
    assert isinstance(parsed, MacroString)
    out = expand(parsed, ctx)
    assert isinstance(out, str)
    if not parsed.has_macros:
        assert out == text.replace("%%", "\0").replace("%_", " ").replace("%-", "%20").replace("\0", "%")


@given(macro_strings(), contexts())
@settings()
def test_url_escaped_letters_expand_to_printable_ascii(text: str, ctx: MacroContext) -> None:
    parsed = parse_macro_string(text)
    assert isinstance(parsed, MacroString)
    for part in parsed.parts:
        if isinstance(part, Expand) and part.url_escape:
            value = expand(MacroString((part,)), ctx)
            assert all(0x21 <= ord(ch) <= 0x7E for ch in value), value


@given(st.lists(st.text(st.characters(codec="utf-8", exclude_characters="."), max_size=5), min_size=1, max_size=8),
       st.integers(1, 10), st.booleans())
@settings()
def test_digit_and_reverse_transformers_keep_the_rightmost_labels(labels: list[str], digits: int,
                                                                   reverse: bool) -> None:
    value = ".".join(labels)
    ordered = labels[::-1] if reverse else labels
    out = transform(value, Expand("d", digits, reverse, "", False))
    assert out == ".".join(ordered[-digits:])
    twice = transform(transform(value, Expand("d", None, True, "", False)), Expand("d", None, True, "", False))
    assert twice == value


@given(st.text(max_size=40), st.text(min_size=1, alphabet=sorted(DELIMITERS), max_size=4))
@settings()
def test_custom_delimiters_become_dots(value: str, delimiters: str) -> None:
    out = transform(value, Expand("l", None, False, delimiters, False))
    assert not any(d in out for d in delimiters if d != ".")
    assert len(out) == len(value)


@given(st.lists(st.text(st.characters(codec="ascii", exclude_characters="."), min_size=1, max_size=70),
                min_size=1, max_size=12), st.booleans())
@settings()
def test_truncation_drops_whole_labels_from_the_left(labels: list[str], trailing: bool) -> None:
    name = ".".join(labels) + ("." if trailing else "")
    out = truncate_domain(name)
    assert name.endswith(out)
    assert out.endswith(".") == trailing
    body = out.removesuffix(".")
    assert len(body) <= 253 or "." not in body
    if len(name.removesuffix(".")) <= 253:
        assert out == name


# ---------------------------------------------------------------- the evaluator with macros

MACRO_RECORD = (
    "v=spf1 exists:%{l}.%{o}._l.%{d} exists:%{ir}.%{v}._i.%{d2} a:%{h}/24 mx:%{d1r}.%{s}"
    " ptr:%{p} exists:%{L}.%{S}.%{H}.%{P}._u.%{d} -all exp=exp.%{d}"
)
EXPLANATION = "%{c} %{r} %{t} %{s} %{L} %{P} %{h} %{I} %{v} %% %_ %-"


@given(identities, st.one_of(wild_text, domainish), addresses)
@settings()
def test_check_host_with_macros_gives_a_result_for_any_identity(mailfrom: str, helo: str,
                                                                address: ipaddress.IPv4Address) -> None:
    sender, domain = spf_identity(mailfrom, helo)
    resolver = MemoryResolver()
    for zone_domain in {domain, "macro.test"}:
        resolver.txt(zone_domain, MACRO_RECORD).txt(f"exp.{zone_domain}", EXPLANATION)
    evaluation = asyncio.run(check_host(address, domain, sender, resolver, helo=helo, timestamp=1))
    assert evaluation.result in RESULTS
    if evaluation.result == "fail" and evaluation.explanation is not None:
        assert evaluation.explanation.startswith(str(sender_address(address)))


@given(st.text(st.characters(codec="utf-8"), max_size=30), addresses)
@settings()
def test_check_host_with_any_local_part_matches_by_the_expanded_name(local: str, address: ipaddress.IPv4Address) -> None:
    # A record that authorises exactly one local-part through exists:%{l}: only it passes.
    assume("@" not in local)
    resolver = MemoryResolver().txt("lp.test", "v=spf1 exists:%{l}._users.lp.test -all")
    resolver.add("alice._users.lp.test", "A", "127.0.0.2")
    sender, domain = spf_identity(f"{local}@lp.test")
    evaluation = asyncio.run(check_host(address, domain, sender, resolver))
    # A local-part that makes a name DNS cannot carry is one void lookup, so -all still decides.
    if (local or "postmaster").lower() == "alice":
        assert evaluation.result == "pass"
    else:
        assert evaluation.result == "fail" or not local.isascii(), evaluation
