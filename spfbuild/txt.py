"""TXT character-strings: quoting as in master files, unquoting pasted text, 255-byte splits,
and wire sizes. Sizes are always bytes of the UTF-8/ASCII encoding, never Python characters.
Text read from DNS may hold octets that are not UTF-8, kept as surrogates (surrogateescape):
they count, split and quote as the single octets they stand for."""

from __future__ import annotations

import re

from spfbuild.limits import MAX_STRING_BYTES


def split_strings(value: str, limit: int = MAX_STRING_BYTES) -> tuple[str, ...]:
    """Split a record into character-strings of at most `limit` bytes, preferring to cut
    just before a space so each string stays readable; receivers concatenate them
    without adding spaces (RFC 7208 section 3.3)."""
    data = octets(value)
    parts: list[str] = []
    while len(data) > limit:
        cut = data.rfind(b" ", 1, limit + 1)
        if cut <= 0:
            cut = limit
            # Never inside a UTF-8 sequence: back off over continuation octets.
            while cut > 1 and data[cut] & 0xC0 == 0x80 and limit - cut < 3:
                cut -= 1
        parts.append(_text(data[:cut]))
        data = data[cut:]
    parts.append(_text(data))
    return tuple(parts)


def octets(text: str) -> bytes:
    """The octets `text` stands for: UTF-8, with surrogate-escaped octets restored."""
    return text.encode("utf-8", "surrogateescape")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def rdata_size(strings: tuple[str, ...] | list[str]) -> int:
    """TXT RDATA length on the wire: each string's bytes plus its length byte."""
    return sum(len(octets(s)) + 1 for s in strings)


def record_size(value: str, limit: int = MAX_STRING_BYTES) -> int:
    """`rdata_size(split_strings(value, limit))`, without building the strings for ASCII text
    (one character, one octet): packing measures thousands of candidate records."""
    if not value.isascii():
        return rdata_size(split_strings(value, limit))
    strings, start, length = 1, 0, len(value)
    while length - start > limit:
        cut = value.rfind(" ", start + 1, start + limit + 1)
        start = cut if cut > 0 else start + limit
        strings += 1
    return length + strings


def quote(string: str) -> str:
    """One character-string as master-file text: quotes, backslashes and non-printable
    bytes escaped (RFC 1035 section 5.1)."""
    out: list[str] = []
    for byte in octets(string):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= byte <= 0x7E:
            out.append(ch)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def quote_all(strings: tuple[str, ...] | list[str]) -> str:
    return " ".join(quote(s) for s in strings)


_QUOTED = re.compile(r'\s*"((?:[^"\\]|\\.)*)"')


def unquote_strings(text: str) -> tuple[str, ...] | None:
    """Parse `"part1" "part2"` as pasted from a zone file or DNS console; None if `text`
    is not made only of quoted strings."""
    strings: list[str] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = _QUOTED.match(stripped, pos)
        if match is None:
            return None
        strings.append(_unescape(match.group(1)))
        pos = match.end()
    return tuple(strings) if strings else None


def _unescape(body: str) -> str:
    """Master-file escapes: `\\DDD` is one octet (so `caf\\195\\169` is "café"), `\\X` is X."""
    out = bytearray()
    for match in re.finditer(r"\\(\d{3}|.)|[^\\]+|\\$", body, re.DOTALL):
        escape = match.group(1)
        if escape is not None and escape.isdigit() and int(escape) <= 255:
            out.append(int(escape))
        elif escape is not None:
            out += octets(chr(int(escape)) if escape.isdigit() else escape)
        else:
            out += octets(match.group(0))
    return _text(bytes(out))
