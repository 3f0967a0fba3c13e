"""Size and cost rules (SPF4xx): the lookup limit and the TXT size limits, on the record alone."""

from __future__ import annotations

from collections.abc import Iterator

from spfbuild.diagnostics import Diagnostic, Severity
from spfbuild.limits import MAX_LOOKUPS, MAX_RECORD_BYTES, MAX_STRING_BYTES
from spfbuild.record import ParseResult
from spfbuild.rules.registry import RECORD_TOO_LARGE, STRING_TOO_LONG, TOO_MANY_LOOKUPS
from spfbuild.txt import octets, rdata_size, split_strings


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
                f"the record is {size} bytes; publish it as {len(parts)} strings of at most {MAX_STRING_BYTES} bytes",
                fix=" ".join(f'"{p}"' for p in parts),
            )
        return
    for number, string in enumerate(strings, 1):
        size = len(octets(string))
        if size > MAX_STRING_BYTES:
            yield STRING_TOO_LONG(
                f"string {number} is {size} bytes; a TXT character-string holds at most {MAX_STRING_BYTES}",
                severity=Severity.ERROR,
            )
