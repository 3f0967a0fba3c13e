"""RFC 7208 section 7 macro-strings: parse, validate and expand.

A macro-string is a sequence of literals and macro-expands. Parsing never raises:
problems come back as `MacroError` values carrying the offset they start at, so the
record parser can turn them into diagnostics with exact columns.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

# Letters allowed in a domain-spec; "c", "r" and "t" only in explanation text (7.1).
DOMAIN_LETTERS = frozenset("slodiphv")
EXP_LETTERS = frozenset("slodiphvcrt")
DELIMITERS = frozenset(".-+,/_=")

_EXPAND = re.compile(r"%\{([A-Za-z])([0-9]*)([rR]?)([^}]*)\}")


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Expand:
    """`%{letter digits r delimiters}`: one macro-expand with its transformers."""

    letter: str  # lower case
    digits: int | None
    reverse: bool
    delimiters: str
    url_escape: bool  # the letter was written in upper case

    def __str__(self) -> str:
        letter = self.letter.upper() if self.url_escape else self.letter
        digits = "" if self.digits is None else str(self.digits)
        return f"%{{{letter}{digits}{'r' if self.reverse else ''}{self.delimiters}}}"


Part = Literal | Expand


@dataclass(frozen=True)
class MacroError:
    offset: int  # offset of the problem within the macro-string
    message: str


@dataclass(frozen=True)
class MacroString:
    parts: tuple[Part, ...]

    @property
    def letters(self) -> frozenset[str]:
        return frozenset(p.letter for p in self.parts if isinstance(p, Expand))

    @property
    def has_macros(self) -> bool:
        return any(isinstance(p, Expand) for p in self.parts)

    @functools.cached_property
    def literal(self) -> str | None:
        """The expansion of a macro-string without macro-expands (escapes resolved), the same in
        every context; None when it has macro-expands."""
        if self.has_macros:
            return None
        return "".join(_unescape(p.text) for p in self.parts if isinstance(p, Literal))


@functools.lru_cache(maxsize=4096)  # pure, with immutable results; the evaluator asks again per term
def parse_macro_string(
    text: str, *, letters: frozenset[str] = DOMAIN_LETTERS, allow_space: bool = False
) -> MacroString | MacroError:
    """Parse `text` as a macro-string (or explain-string when `allow_space`)."""
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "%":
            code = ord(ch)
            if not (0x21 <= code <= 0x7E or (allow_space and ch == " ")):
                return MacroError(i, f"character {ch!r} is not allowed here")
            literal.append(ch)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt in ("%", "_", "-"):
            # The escapes are literal text once expanded; keep them as written.
            literal.append("%" + nxt)
            i += 2
            continue
        if nxt != "{":
            return MacroError(i, f"'%' must start %{{...}}, %%, %_ or %-, not {text[i : i + 2]!r}")
        match = _EXPAND.match(text, i)
        if match is None:
            return MacroError(i, f"unterminated or malformed macro {text[i : i + 12]!r}")
        expand = _expand_from_match(match, letters)
        if isinstance(expand, MacroError):
            return MacroError(i, expand.message)
        if literal:
            parts.append(Literal("".join(literal)))
            literal = []
        parts.append(expand)
        i = match.end()
    if literal:
        parts.append(Literal("".join(literal)))
    return MacroString(tuple(parts))


def _expand_from_match(match: re.Match[str], letters: frozenset[str]) -> Expand | MacroError:
    letter, digits, reverse, delimiters = match.groups()
    low = letter.lower()
    if low not in letters:
        if low in EXP_LETTERS:
            return MacroError(0, f"macro letter '{letter}' is only allowed in exp= explanation text")
        return MacroError(0, f"unknown macro letter '{letter}'")
    if digits and int(digits) == 0:
        return MacroError(0, "macro digit transformer must be at least 1")
    bad = [d for d in delimiters if d not in DELIMITERS]
    if bad:
        return MacroError(0, f"invalid macro delimiter {bad[0]!r} (allowed: . - + , / _ =)")
    return Expand(
        letter=low,
        digits=int(digits) if digits else None,
        reverse=bool(reverse),
        delimiters=delimiters,
        url_escape=letter.isupper(),
    )


@dataclass(frozen=True)
class MacroContext:
    """The values macro letters expand to (RFC 7208 section 7.3)."""

    sender: str  # <local-part>@<domain>
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    domain: str  # current domain (d)
    helo: str = ""
    receiver: str = "unknown"  # r
    timestamp: int = 0  # t
    validated_name: str = "unknown"  # p, resolved by the evaluator when used

    @property
    def local_part(self) -> str:
        # Split at the first "@", as the evaluator splits MAIL FROM into local-part and domain.
        local, at, _ = self.sender.partition("@")
        return (local if at else "") or "postmaster"

    @property
    def sender_domain(self) -> str:
        local, at, domain = self.sender.partition("@")
        return domain if at else local


def letter_value(letter: str, ctx: MacroContext) -> str:
    if letter == "s":
        return ctx.sender
    if letter == "l":
        return ctx.local_part
    if letter == "o":
        return ctx.sender_domain
    if letter == "d":
        return ctx.domain
    if letter == "i":
        return _dotted_ip(ctx.ip)
    if letter == "p":
        return ctx.validated_name
    if letter == "v":
        return "in-addr" if ctx.ip.version == 4 else "ip6"
    if letter == "h":
        return ctx.helo
    if letter == "c":
        return str(ctx.ip)
    if letter == "r":
        return ctx.receiver
    if letter == "t":
        return str(ctx.timestamp)
    raise ValueError(f"unknown macro letter {letter!r}")


def _dotted_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if ip.version == 4:
        return str(ip)
    # IPv6 "i" is dot-separated nibbles (7.3). Upper case, as RFC 4408's example and the openspf
    # conformance suite have it (RFC 7208's example is lower case): DNS ignores case, exp text shows it.
    return ".".join(ip.exploded.replace(":", "").upper())


def transform(value: str, expand: Expand) -> str:
    delimiters = expand.delimiters or "."
    # The default delimiter needs no pattern: the common case, expanded per evaluated address.
    parts = value.split(".") if delimiters == "." else re.split("[" + re.escape(delimiters) + "]", value)
    if expand.reverse:
        parts.reverse()
    if expand.digits is not None and expand.digits < len(parts):
        parts = parts[len(parts) - expand.digits :]
    out = ".".join(parts)
    if expand.url_escape:
        from urllib.parse import quote  # only for upper-case macro letters: rare, and a slow import

        # Octets, not characters: a PTR name may carry undecodable bytes as surrogates.
        out = quote(out.encode("utf-8", "surrogateescape"), safe="-._~")
    return out


def with_domain(text: str, domain: str) -> str:
    """The macro-string `text` with each %{d...} expanded for `domain` and every other macro as
    written: what `text` means in the record of `domain`, to be written in another record."""
    macro = parse_macro_string(text)
    if isinstance(macro, MacroError):
        return text
    out = []
    for part in macro.parts:
        if isinstance(part, Expand):
            out.append(transform(domain, part) if part.letter == "d" else str(part))
        else:
            out.append(part.text)
    return "".join(out)


_ESCAPES = {"%%": "%", "%_": " ", "%-": "%20"}


def expand(macro: MacroString, ctx: MacroContext) -> str:
    out: list[str] = []
    for part in macro.parts:
        if isinstance(part, Literal):
            out.append(_unescape(part.text))
        else:
            out.append(transform(letter_value(part.letter, ctx), part))
    return "".join(out)


def _unescape(text: str) -> str:
    if "%" not in text:
        return text
    return re.sub(r"%[%_-]", lambda m: _ESCAPES[m.group(0)], text)


def truncate_domain(name: str, limit: int = 253) -> str:
    """Drop labels from the left until the name fits (RFC 7208 section 7.3)."""
    trailing = name.endswith(".")
    body = name[:-1] if trailing else name
    while len(body) > limit and "." in body:
        body = body.split(".", 1)[1]
    return body + ("." if trailing else "")
