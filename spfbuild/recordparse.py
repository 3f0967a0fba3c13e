"""The SPF record parser (RFC 7208 sections 4.5, 4.6, 5, 6, 7.1 and 12).

`parse()` never raises. It returns a `ParseResult` holding the terms that parsed, their
positions in the text, and a diagnostic for every problem. A record with any error-level
diagnostic is a permerror for a receiver; the linter still checks the terms that parsed.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import replace

from spfbuild.diagnostics import Diagnostic
from spfbuild.dnsname import is_toplabel
from spfbuild.macro import DOMAIN_LETTERS, EXP_LETTERS, MacroError, MacroString, parse_macro_string
from spfbuild.record import (
    MECHANISMS,
    IPAddress,
    Mechanism,
    Modifier,
    ParseResult,
    Qualifier,
    Record,
    Span,
    Term,
)
from spfbuild.rules import registry as S
from spfbuild.typography import find_lookalikes, fix_lookalikes

VERSION = "v=spf1"
_CIDR = r"(?:0|[1-9][0-9]*)"
_DUAL_CIDR = re.compile(rf"(?:/({_CIDR}))?(?://({_CIDR}))?$")
_MODIFIER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]*$")
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf"{_QNUM}(?:\.{_QNUM}){{3}}$")
_IP6_CHARS = re.compile(r"[0-9A-Fa-f:.]+$")


def is_spf_record(text: str) -> bool:
    """RFC 7208 section 4.5: begins with `v=spf1` (any case), then a space or the end."""
    return text[:6].lower() == VERSION and (len(text) == 6 or text[6] == " ")


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> ParseResult:
    """Parse record text. Typographic look-alikes are reported, then parsed as their ASCII twins,
    so one stray en dash does not hide every other finding.

    Results are immutable and cached: an evaluation or an audit parses the same provider
    records over and over."""
    lookalikes = find_lookalikes(text)
    if not lookalikes:
        record, spans, found = _parse_terms(text)
        return ParseResult(text=text, record=record, spans=spans, diagnostics=tuple(found))
    fixed, origin = fix_lookalikes(text)
    diagnostics = [
        S.TYPOGRAPHIC(
            f"{look.description} (U+{ord(text[offset]):04X}) where {look.meant} is meant",
            column=offset + 1,
            fix=fixed,
        )
        for offset, look in sorted(lookalikes.items())
    ]
    record, spans, found = _parse_terms(fixed)
    # Map offsets in the fixed text back to the original (zero-width characters were removed).
    diagnostics += [replace(d, column=origin[d.column - 1] + 1) if d.column else d for d in found]
    spans = tuple(Span(origin[s.start], origin[s.end]) for s in spans)
    return ParseResult(text=text, record=record, spans=spans, diagnostics=tuple(diagnostics))


def _parse_terms(text: str) -> tuple[Record, tuple[Span, ...], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    version_end = _check_version(text, diagnostics)
    if version_end is None:
        return Record(), (), diagnostics
    terms: list[Term] = []
    spans: list[Span] = []
    seen_modifiers: set[str] = set()
    for start, chunk in _split_terms(text, version_end, diagnostics):
        term = _parse_term(chunk, start, diagnostics)
        if term is None:
            continue
        if isinstance(term, Modifier) and term.name in ("redirect", "exp"):
            if term.name in seen_modifiers:
                diagnostics.append(
                    S.DUPLICATE_MODIFIER(
                        f"'{term.name}' appears more than once", column=start + 1, length=len(chunk)
                    )
                )
                continue
            seen_modifiers.add(term.name)
        terms.append(term)
        spans.append(Span(start, start + len(chunk)))
    return Record(tuple(terms)), tuple(spans), diagnostics


def _check_version(text: str, diagnostics: list[Diagnostic]) -> int | None:
    if is_spf_record(text):
        return 6
    head = text.split(" ", 1)[0]
    low = head.lower()
    if low.startswith(VERSION):
        diagnostics.append(
            S.MISSPELLED_VERSION(
                f"version tag must be followed by a space: {head!r}",
                column=1, length=len(head), fix=f"v=spf1 {text[6:].lstrip()}".rstrip(),
            )
        )
        return None
    if re.fullmatch(r"v?\s*=?\s*spf\d*|v=sp[f]?\d*|v\s*=\s*spf1", low) or "spf" in low[:8]:
        rest = text[len(head):].strip()
        diagnostics.append(
            S.MISSPELLED_VERSION(
                f"version tag {head!r} is not 'v=spf1'",
                column=1, length=len(head), fix=f"v=spf1 {rest}".rstrip(),
            )
        )
        return None
    diagnostics.append(S.MISSING_VERSION("record does not start with 'v=spf1'", column=1, length=len(head)))
    return None


_CHUNK = re.compile(r"[^ ]+")
_NOT_TERM_CHARACTER = re.compile(r"[^\x21-\x7e]")


def _split_terms(text: str, start: int, diagnostics: list[Diagnostic]) -> list[tuple[int, str]]:
    """Split on spaces only (RFC 7208 section 12: 1*SP); report any other separator."""
    chunks: list[tuple[int, str]] = []
    for match in _CHUNK.finditer(text, start):
        chunk, offset = match.group(0), match.start()
        # Printable ASCII is all a term may hold (no space: split on them); most records are.
        bad = None if chunk.isascii() and chunk.isprintable() else _NOT_TERM_CHARACTER.search(chunk)
        if bad:
            ch = bad.group(0)
            # An octet that is not UTF-8 (read from DNS) arrives as a surrogate: name the octet.
            what = f"octet 0x{ord(ch) - 0xDC00:02X} (not UTF-8)" if 0xDC80 <= ord(ch) <= 0xDCFF \
                else f"character {ch!r} (U+{ord(ch):04X})"
            diagnostics.append(
                S.INVALID_CHARACTER(
                    f"{what} is not allowed; terms are separated by spaces",
                    column=offset + bad.start() + 1,
                )
            )
            continue
        chunks.append((offset, chunk))
    return chunks


def _parse_term(chunk: str, start: int, diagnostics: list[Diagnostic]) -> Term | None:
    term, found = _read_term(chunk)
    if found:
        diagnostics.extend(replace(d, column=d.column + start) if d.column else d for d in found)
    return term


@functools.lru_cache(maxsize=16384)  # records repeat terms: every client's record names its providers'
def _read_term(chunk: str) -> tuple[Term | None, tuple[Diagnostic, ...]]:
    """A term read at column 0, with what is wrong with it (columns counted from its start)."""
    found: list[Diagnostic] = []
    return _term_at_zero(chunk, found), tuple(found)


def _term_at_zero(chunk: str, diagnostics: list[Diagnostic]) -> Term | None:
    start = 0
    name_match = re.match(r"[^:/=]*", chunk)
    assert name_match is not None
    name = name_match.group(0)
    rest = chunk[len(name):]
    if rest.startswith("=") and _MODIFIER_NAME.match(name):
        return _parse_modifier(name.lower(), rest[1:], start, len(name) + 1, diagnostics)
    qualifier = Qualifier.PASS
    kind = name
    if kind[:1] in "+-~?" and kind:
        qualifier = Qualifier(kind[0])
        kind = kind[1:]
    low = kind.lower()
    if low not in MECHANISMS:
        diagnostics.append(_unknown_term(name, chunk, start))
        return None
    return _parse_mechanism(qualifier, low, rest, start, len(name), diagnostics)


def _unknown_term(name: str, chunk: str, start: int) -> Diagnostic:
    stripped = name.lstrip("+-~?")
    if name[:2] and len(name) - len(stripped) > 1 and stripped.lower() in MECHANISMS:
        return S.INVALID_QUALIFIER(
            f"'{chunk}' has more than one qualifier", column=start + 1, length=len(chunk),
            fix=f"{name[len(name) - len(stripped) - 1]}{stripped}{chunk[len(name):]}",
        )
    if name[:1] in "!*" and stripped[1:].lower() in MECHANISMS:
        return S.INVALID_QUALIFIER(f"'{name[0]}' is not a qualifier in '{chunk}'", column=start + 1)
    if "=" in chunk and not _MODIFIER_NAME.match(name):
        return S.INVALID_MODIFIER(f"invalid modifier name {name!r}", column=start + 1, length=len(chunk))
    return S.UNKNOWN_MECHANISM(f"unknown mechanism {chunk!r}", column=start + 1, length=len(chunk))


def _parse_mechanism(
    qualifier: Qualifier, kind: str, rest: str, start: int, name_len: int, diagnostics: list[Diagnostic]
) -> Mechanism | None:
    where = start + name_len  # offset of `rest`
    if kind == "all":
        if rest:
            diagnostics.append(
                S.UNEXPECTED_ARGUMENT(f"'all' takes no argument, found {rest!r}", column=where + 1)
            )
            return None
        return Mechanism("all", qualifier)
    if kind in ("ip4", "ip6"):
        return _parse_ip(qualifier, kind, rest, where, diagnostics)
    if kind in ("include", "exists"):
        if not rest.startswith(":"):
            diagnostics.append(
                S.MISSING_DOMAIN(f"'{kind}' needs ':domain'", column=where + 1 if rest else start + 1)
            )
            return None
        domain = _check_domain(rest[1:], where + 1, kind, diagnostics)
        return None if domain is None else Mechanism(kind, qualifier, domain=domain)
    # a, mx, ptr: optional domain; a and mx take a dual cidr.
    domain_text, prefix4, prefix6 = rest, None, None
    if kind != "ptr":
        cidr = _DUAL_CIDR.search(rest)
        assert cidr is not None
        domain_text = rest[: cidr.start()]
        prefix4 = _cidr_value(cidr.group(1), 32, where + cidr.start(), diagnostics)
        prefix6 = _cidr_value(cidr.group(2), 128, where + cidr.start(), diagnostics)
        if (cidr.group(1) and prefix4 is None) or (cidr.group(2) and prefix6 is None):
            return None
    domain = None
    if domain_text:
        if not domain_text.startswith(":"):
            diagnostics.append(
                S.UNEXPECTED_ARGUMENT(
                    f"unexpected {domain_text!r} after '{kind}'", column=where + 1, length=len(domain_text)
                )
            )
            return None
        domain = _check_domain(domain_text[1:], where + 1, kind, diagnostics)
        if domain is None:
            return None
    return Mechanism(kind, qualifier, domain=domain, prefix4=prefix4, prefix6=prefix6)


def _cidr_value(digits: str | None, limit: int, offset: int, diagnostics: list[Diagnostic]) -> int | None:
    if digits is None:
        return None
    value = int(digits)
    if value > limit:
        diagnostics.append(S.INVALID_CIDR(f"prefix length /{value} is over {limit}", column=offset + 1))
        return None
    return value


def _parse_ip(
    qualifier: Qualifier, kind: str, rest: str, where: int, diagnostics: list[Diagnostic]
) -> Mechanism | None:
    rule = S.INVALID_IP4 if kind == "ip4" else S.INVALID_IP6
    if not rest.startswith(":") or len(rest) == 1:
        diagnostics.append(rule(f"'{kind}' needs ':address'", column=where + 1))
        return None
    body = rest[1:]
    addr_text, slash, prefix_text = body.partition("/")
    limit = 32 if kind == "ip4" else 128
    prefix: int | None = None
    if slash:
        if not re.fullmatch(_CIDR, prefix_text):
            diagnostics.append(
                S.INVALID_CIDR(f"invalid prefix length '/{prefix_text}'", column=where + 2 + len(addr_text))
            )
            return None
        prefix = _cidr_value(prefix_text, limit, where + 1 + len(addr_text), diagnostics)
        if prefix is None:
            return None
    address = _ip_address(kind, addr_text)
    if address is None:
        family = "IPv4" if kind == "ip4" else "IPv6"
        diagnostics.append(
            rule(f"{addr_text!r} is not a valid {family} address", column=where + 2, length=len(addr_text))
        )
        return None
    if kind == "ip4":
        return Mechanism(kind, qualifier, address=address, prefix4=prefix)
    return Mechanism(kind, qualifier, address=address, prefix6=prefix)


def _ip_address(kind: str, text: str) -> IPAddress | None:
    if kind == "ip4":
        return ipaddress.IPv4Address(text) if _IP4.match(text) else None
    if not _IP6_CHARS.match(text):
        return None  # also refuses scoped addresses (fe80::1%eth0)
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def _parse_modifier(
    name: str, value: str, start: int, name_len: int, diagnostics: list[Diagnostic]
) -> Modifier | None:
    where = start + name_len
    if name in ("redirect", "exp"):
        if not value:
            diagnostics.append(S.MISSING_DOMAIN(f"'{name}=' needs a domain", column=start + 1))
            return None
        domain = _check_domain(value, where, name, diagnostics)
        return None if domain is None else Modifier(name, domain)
    parsed = parse_macro_string(value, letters=EXP_LETTERS)
    if isinstance(parsed, MacroError):
        diagnostics.append(
            S.INVALID_MACRO(f"in modifier '{name}': {parsed.message}", column=where + parsed.offset + 1)
        )
        return None
    return Modifier(name, value)


def _check_domain(text: str, offset: int, kind: str, diagnostics: list[Diagnostic]) -> str | None:
    """Validate a domain-spec (RFC 7208 section 7.1); returns it, or None after a diagnostic."""
    if not text:
        diagnostics.append(S.MISSING_DOMAIN(f"'{kind}' has an empty domain", column=offset + 1))
        return None
    parsed = parse_macro_string(text, letters=DOMAIN_LETTERS)
    if isinstance(parsed, MacroError):
        diagnostics.append(S.INVALID_MACRO(parsed.message, column=offset + parsed.offset + 1))
        return None
    problem = domain_end_problem(parsed, text)
    if problem:
        diagnostics.append(
            S.INVALID_DOMAIN(f"{text!r} is not a valid domain-spec: {problem}", column=offset + 1,
                             length=len(text))
        )
        return None
    return text


def domain_end_problem(parsed: MacroString, text: str) -> str | None:
    """RFC 7208 domain-end: `"." toplabel ["."]` or a macro-expand at the very end."""
    from spfbuild.macro import Expand, Literal

    last = parsed.parts[-1] if parsed.parts else None
    if isinstance(last, Expand):
        return None
    if isinstance(last, Literal) and re.search(r"%[%_-]$", last.text):
        return None
    literal = last.text if isinstance(last, Literal) else text
    body = literal[:-1] if literal.endswith(".") else literal
    if "." not in body:
        return "it needs at least two labels (a top label after a dot)"
    top = body.rsplit(".", 1)[1]
    if not top:
        return "empty label"
    if not is_toplabel(top):
        if top.isdigit():
            return f"top label {top!r} is all digits"
        return f"top label {top!r} may hold only letters, digits and inner hyphens"
    return None
