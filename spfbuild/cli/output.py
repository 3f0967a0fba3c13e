"""Rendering diagnostics for people: `source:line:col`, a caret under the problem, the fix."""

from __future__ import annotations

from collections.abc import Iterable

from spfbuild.diagnostics import Diagnostic


def format_diagnostic(diag: Diagnostic, record: str, source: str, line: int = 1) -> str:
    out = [f"{source}:{line}:{diag.column}: {diag.severity.value} {diag.code} [{diag.name}] {diag.message}"]
    if diag.column > 0 and record:
        out.append(f"  {record}")
        out.append("  " + _caret_indent(record, diag.column - 1) + "^" * max(1, min(diag.length, 80)))
    if diag.fix:
        out.append(f"  fix: {diag.fix}")
    return "\n".join(out)


def _caret_indent(record: str, offset: int) -> str:
    # Keep tabs so the caret lines up under the same character in a terminal.
    return "".join("\t" if ch == "\t" else " " for ch in record[:offset])


def summary(counts: Iterable[Diagnostic], records: int) -> str:
    items = list(counts)
    errors = sum(1 for d in items if d.severity.value == "error")
    warnings = sum(1 for d in items if d.severity.value == "warning")
    infos = len(items) - errors - warnings
    noun = "record" if records == 1 else "records"
    return f"{records} {noun} checked: {_n(errors, 'error')}, {_n(warnings, 'warning')}, {_n(infos, 'note')}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
