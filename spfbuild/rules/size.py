"""Size and cost rules (SPF4xx): the 10-lookup limit and TXT size limits."""

from __future__ import annotations

from collections.abc import Iterator

from spfbuild.diagnostics import Diagnostic, Severity, register
from spfbuild.limits import MAX_LOOKUPS, MAX_RECORD_BYTES, MAX_STRING_BYTES
from spfbuild.record import ParseResult
from spfbuild.txt import octets, rdata_size, split_strings

TOO_MANY_LOOKUPS = register(
    "SPF400", "too-many-lookups", Severity.ERROR,
    "The record itself has more than 10 DNS-querying terms (include, a, mx, ptr, exists, redirect).",
    "Flatten providers into ip4/ip6 ranges with `spfbuild flatten`, or drop unused senders.",
    "RFC 7208 section 4.6.4: check_host() returns permerror once more than 10 DNS-querying terms are "
    "evaluated, counting those in included records too; `spfbuild check` counts the whole tree.",
)
STRING_TOO_LONG = register(
    "SPF401", "string-too-long", Severity.WARNING,
    "The record is longer than 255 bytes and must be published as several character-strings.",
    'Publish it as several quoted strings of at most 255 bytes each: "v=spf1 ... " "...".',
    "A TXT character-string holds at most 255 bytes. DNS consoles and zone files need the record split; "
    "receivers join the strings without adding spaces. A single quoted string over 255 bytes is an error.",
)
RECORD_TOO_LARGE = register(
    "SPF402", "record-too-large", Severity.WARNING,
    "The record is larger than 450 bytes, RFC 7208's guidance for fitting a 512-byte UDP answer.",
    "Shorten it: use includes, collapse ranges, or move terms into chained records with `spfbuild flatten`.",
)


def check(parsed: ParseResult, strings: tuple[str, ...] | None = None) -> Iterator[Diagnostic]:
    """`strings` are the character-strings as given (None when the input was unquoted text)."""
    lookups = parsed.record.dns_lookups
    if lookups > MAX_LOOKUPS:
        yield TOO_MANY_LOOKUPS(
            f"{lookups} DNS-querying terms in the record itself (the limit is {MAX_LOOKUPS})"
        )
    yield from _string_sizes(parsed.text, strings)
    size = rdata_size(strings if strings is not None else split_strings(parsed.text))
    if size > MAX_RECORD_BYTES:
        yield RECORD_TOO_LARGE(
            f"the record is {size} bytes on the wire (guidance: at most {MAX_RECORD_BYTES})"
        )


def _string_sizes(text: str, strings: tuple[str, ...] | None) -> Iterator[Diagnostic]:
    if strings is None:
        size = len(octets(text))
        if size > MAX_STRING_BYTES:
            parts = split_strings(text)
            yield STRING_TOO_LONG(
                f"the record is {size} bytes; publish it as {len(parts)} strings of at most 255 bytes",
                fix=" ".join(f'"{p}"' for p in parts),
            )
        return
    for number, string in enumerate(strings, 1):
        size = len(octets(string))
        if size > MAX_STRING_BYTES:
            yield STRING_TOO_LONG(
                f"string {number} is {size} bytes; a TXT character-string holds at most 255",
                severity=Severity.ERROR,
            )
