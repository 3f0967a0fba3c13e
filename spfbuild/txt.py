"""TXT character-strings: quoting as in master files, unquoting pasted text, 255-byte splits,
and wire sizes. Sizes are always bytes of the UTF-8/ASCII encoding, never Python characters."""

from __future__ import annotations

import re

MAX_STRING_BYTES = 255


def split_strings(value: str, limit: int = MAX_STRING_BYTES) -> tuple[str, ...]:
    """Split a record into character-strings of at most `limit` bytes, preferring to cut
    just before a space so each string stays readable; receivers concatenate them
    without adding spaces (RFC 7208 section 3.3)."""
    data = value.encode()
    parts: list[str] = []
    while len(data) > limit:
        cut = data.rfind(b" ", 1, limit + 1)
        if cut <= 0:
            cut = limit
        parts.append(data[:cut].decode())
        data = data[cut:]
    parts.append(data.decode())
    return tuple(parts)


def rdata_size(strings: tuple[str, ...] | list[str]) -> int:
    """TXT RDATA length on the wire: each string's bytes plus its length byte."""
    return sum(len(s.encode()) + 1 for s in strings)


def record_size(value: str, limit: int = MAX_STRING_BYTES) -> int:
    return rdata_size(split_strings(value, limit))


def quote(string: str) -> str:
    """One character-string as master-file text: quotes, backslashes and non-printable
    bytes escaped (RFC 1035 section 5.1)."""
    out: list[str] = []
    for byte in string.encode():
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
    def one(m: re.Match[str]) -> str:
        esc = m.group(1)
        return chr(int(esc)) if esc.isdigit() else esc

    return re.sub(r"\\(\d{3}|.)", one, body)
