"""Policy rules (SPF2xx): the record parses but says something its author rarely means."""

from __future__ import annotations

from collections.abc import Iterator

from spfbuild.diagnostics import Diagnostic
from spfbuild.record import Mechanism, Modifier, ParseResult, Qualifier
from spfbuild.rules.registry import (
    DUPLICATE_TERM,
    EXP_WITHOUT_FAIL,
    NEUTRAL_ALL,
    NO_ALL,
    PASS_ALL,
    PTR_USED,
    REDIRECT_WITH_ALL,
    TERMS_AFTER_ALL,
    UNKNOWN_MODIFIER,
)


def check(parsed: ParseResult) -> Iterator[Diagnostic]:
    yield from _all_checks(parsed)
    yield from _duplicates(parsed)
    yield from _modifiers(parsed)


def _all_checks(parsed: ParseResult) -> Iterator[Diagnostic]:
    record = parsed.record
    all_index: int | None = None
    for index, (term, span) in enumerate(zip(record.terms, parsed.spans, strict=True)):
        if not isinstance(term, Mechanism):
            continue
        if all_index is not None:
            yield TERMS_AFTER_ALL(f"'{term}' comes after 'all' and is never evaluated", column=span.column)
            continue
        if term.kind == "ptr":
            yield PTR_USED(f"'{term}' uses the deprecated ptr mechanism", column=span.column)
        if term.kind == "all":
            all_index = index
            if term.qualifier is Qualifier.PASS:
                yield PASS_ALL(f"'{parsed.text[span.start:span.end]}' passes every host", column=span.column)
            elif term.qualifier is Qualifier.NEUTRAL:
                yield NEUTRAL_ALL("'?all' leaves unlisted hosts neutral", column=span.column)
    if all_index is None and record.redirect is None and parsed.ok:
        yield NO_ALL("no 'all' and no 'redirect=': unlisted hosts get neutral", column=len(parsed.text) + 1)
    if all_index is not None and record.redirect is not None:
        column = _column_of(parsed, "redirect")
        yield REDIRECT_WITH_ALL("'redirect=' is ignored because the record has 'all'", column=column)


def _column_of(parsed: ParseResult, modifier: str) -> int:
    for term, span in zip(parsed.record.terms, parsed.spans, strict=True):
        if isinstance(term, Modifier) and term.name == modifier:
            return span.column
    return 0


def _duplicates(parsed: ParseResult) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for term, span in zip(parsed.record.terms, parsed.spans, strict=True):
        key = str(term).lower()
        if key in seen:
            yield DUPLICATE_TERM(f"'{term}' appears more than once", column=span.column)
        seen.add(key)


def _modifiers(parsed: ParseResult) -> Iterator[Diagnostic]:
    record = parsed.record
    for term, span in zip(record.terms, parsed.spans, strict=True):
        if isinstance(term, Modifier) and term.name not in ("redirect", "exp"):
            yield UNKNOWN_MODIFIER(f"unknown modifier '{term.name}' is ignored", column=span.column)
    if record.exp is not None:
        fail_path = record.redirect is not None or any(
            m.qualifier is Qualifier.FAIL for m in record.mechanisms
        )
        if not fail_path:
            column = _column_of(parsed, "exp")
            yield EXP_WITHOUT_FAIL("'exp=' is never used: no term can give fail", column=column)
