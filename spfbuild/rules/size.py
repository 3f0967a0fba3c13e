"""Size and cost rules (SPF4xx): the lookup limit and the TXT size limits, on the record alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from spfbuild.diagnostics import Diagnostic, Severity
from spfbuild.limits import MAX_LOOKUPS, MAX_RECORD_BYTES, MAX_STRING_BYTES
from spfbuild.record import ParseResult
from spfbuild.rules.registry import ESTIMATED_TOO_MANY_LOOKUPS, RECORD_TOO_LARGE, STRING_TOO_LONG, TOO_MANY_LOOKUPS
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


def estimated(parsed: ParseResult, lookups_of: Callable[[str], int | None]) -> tuple[int, list[str]]:
    """The lookups the record costs receivers, counting `lookups_of(domain)` for each include it
    knows (None: 1, at least), and the includes it knew."""
    total, known = 0, []
    record = parsed.record
    for term in record.mechanisms:
        if term.kind == "all":
            break
        cost = lookups_of(term.domain) if term.kind == "include" and term.domain else None
        if cost is not None:
            known.append(f"{term} ({cost})")
        total += cost if cost is not None else int(term.queries_dns)
    if record.redirect is not None and not any(m.kind == "all" for m in record.mechanisms):
        total += 1  # at least: what the target costs is not known offline
    return total, known


def check_estimate(parsed: ParseResult, lookups_of: Callable[[str], int | None]) -> Iterator[Diagnostic]:
    """The lookup limit over the includes the provider catalogue knows (an estimate, said so)."""
    total, known = estimated(parsed, lookups_of)
    if known and total > MAX_LOOKUPS >= parsed.record.dns_lookups:
        yield ESTIMATED_TOO_MANY_LOOKUPS(
            f"about {total} DNS lookups, estimated from the provider catalogue's figures for {', '.join(known)}: "
            f"over the limit of {MAX_LOOKUPS} (`spfbuild check` counts them in DNS)"
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
