"""Offline linting of one record: parse, then run every offline rule."""

from __future__ import annotations

from dataclasses import dataclass

from spfbuild.diagnostics import Diagnostic, Severity, has_errors
from spfbuild.record import ParseResult, parse
from spfbuild.rules import policy, ranges, size
from spfbuild.rules import syntax as S
from spfbuild.txt import quote_all, split_strings, unquote_strings
from spfbuild.typography import find_lookalikes, fix_lookalikes


@dataclass(frozen=True)
class LintResult:
    text: str  # the record text the columns refer to
    strings: tuple[str, ...] | None  # the character-strings given, when the input was quoted
    parsed: ParseResult
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def lint_record(text: str) -> LintResult:
    """Lint record text, either bare (`v=spf1 ...`) or as quoted strings (`"v=spf1 ..." "..."`)."""
    text = text.strip("\r\n")
    prefix, strings = _quoted_input(text)
    record_text = "".join(strings) if strings is not None else text
    parsed = parse(record_text)
    found = list(prefix) + list(parsed.diagnostics)
    found += policy.check(parsed)
    found += ranges.check(parsed)
    found += size.check(parsed, strings)
    ordered = sorted(found, key=lambda d: (d.severity.rank != Severity.ERROR.rank, d.column, d.code))
    return LintResult(record_text, strings, parsed, tuple(ordered))


def _quoted_input(text: str) -> tuple[list[Diagnostic], tuple[str, ...] | None]:
    """Recognise pasted TXT strings; curly quotes around them are reported, then accepted."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "\"\u201c\u201d\u201e":
        return [], None
    fixed, _ = fix_lookalikes(stripped)
    strings = unquote_strings(fixed)
    if strings is None:
        return [], None
    found = [
        S.TYPOGRAPHIC(
            f"{look.description} (U+{ord(stripped[i]):04X}) around the TXT string where '\"' is meant",
            fix=fixed,
        )
        for i, look in find_lookalikes(stripped).items()
        if look.replacement == '"'
    ]
    return found, strings


def lint_value(value: str) -> LintResult:
    """Lint a record as spfbuild publishes it: split into <=255-byte strings."""
    return lint_record(quote_all(split_strings(value)))
