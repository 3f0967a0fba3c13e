"""Offline linting of one record: the one place that runs every offline rule (SPF1xx-SPF4xx), and
the judgement of an existing record that a config merges into."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spfbuild.diagnostics import Diagnostic, Severity, has_errors
from spfbuild.record import ParseResult
from spfbuild.recordparse import parse
from spfbuild.rules import policy, ranges, size, syntax
from spfbuild.rules.registry import REDIRECT_WITH_ALL, TERMS_AFTER_ALL
from spfbuild.txt import quote_all, split_strings


@dataclass(frozen=True)
class LintResult:
    text: str  # the record text the columns refer to
    strings: tuple[str, ...] | None  # the character-strings given, when the input was quoted
    parsed: ParseResult
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def lint_record(text: str, lookups_of: Callable[[str], int | None] | None = None) -> LintResult:
    """Lint record text, either bare (`v=spf1 ...`) or as quoted strings (`"v=spf1 ..." "..."`).
    `lookups_of(domain)` is what an include costs by the provider catalogue (None: not known):
    with it the lookup limit is also judged on that estimate (SPF403)."""
    text = text.strip("\r\n")
    quoting, strings = syntax.check_quoting(text)
    record_text = "".join(strings) if strings is not None else text
    parsed = parse(record_text)  # the parser raises the syntax rules of the record itself
    found = [*quoting, *parsed.diagnostics, *policy.check(parsed), *ranges.check(parsed), *size.check(parsed, strings),
             *(size.check_estimate(parsed, lookups_of) if lookups_of is not None else ())]
    ordered = sorted(found, key=lambda d: (d.severity.rank != Severity.ERROR.rank, d.column, d.code))
    return LintResult(record_text, strings, parsed, tuple(ordered))


def record_text(text: str) -> str:
    """The record a bare or pasted input holds: quoted TXT strings (`"v=spf1 mx" " ~all"`) are
    joined as DNS joins them, without spaces."""
    _, strings = syntax.check_quoting(text.strip("\r\n"))
    return "".join(strings) if strings is not None else text.strip()


def lint_value(value: str) -> LintResult:
    """Lint a record as spfbuild publishes it: split into TXT character-strings."""
    return lint_record(quote_all(split_strings(value)))


# Findings that make a term never take effect: merging into such a record changes who may send.
_NEVER_EFFECTIVE = (TERMS_AFTER_ALL.code, REDIRECT_WITH_ALL.code)


def existing_problem(text: str) -> str | None:
    """Why an existing record cannot be merged into, or None: a syntax error, or a term that
    never takes effect (the merge would change who may send, whatever it did with that term)."""
    parsed = parse(record_text(text))
    errors = [d for d in parsed.diagnostics if d.is_error]
    if errors:
        return f"existing record: {errors[0].message} (column {errors[0].column})"
    dead = next((d for d in policy.check(parsed) if d.code in _NEVER_EFFECTIVE), None)
    if dead is not None:
        return (f"existing record: {dead.message} ({dead.code} [{dead.name}], column {dead.column}); "
                "merging into it would change who may send: fix the record first")
    return None
