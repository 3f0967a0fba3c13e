"""What commands show and write: diagnostics for people (`source:line:col`, a caret under the
problem, the fix) and record sets in the chosen format, printed or written atomically."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from spfbuild.cli.common import EXIT_USAGE, fail
from spfbuild.cli.options import Format

if TYPE_CHECKING:
    from pathlib import Path

    from spfbuild.diagnostics import Diagnostic
    from spfbuild.emit import RecordSet


def format_diagnostic(diag: Diagnostic, record: str, source: str, line: int = 1) -> str:
    # A finding about the whole record (column 0) points at its start: locations are 1-based.
    out = [f"{source}:{line}:{max(1, diag.column)}: {diag.severity.value} {diag.code} [{diag.name}] {diag.message}"]
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


def emit_sets(sets: Sequence[RecordSet], fmt: Format, output: Path | None) -> None:
    """Print or atomically write record sets in the chosen format (render and flatten)."""
    from spfbuild.emit import render_json, render_txt, render_zone

    # octoDNS reads a directory of <zone>.yaml files: an output path not named *.yaml is that directory.
    as_directory = output is not None and (output.is_dir() or output.suffix not in (".yaml", ".yml"))
    if fmt is Format.octodns and (len(sets) > 1 or as_directory):
        if output is None:
            fail("--format octodns with several domains needs --output DIR (one <domain>.yaml each)", EXIT_USAGE)
        output.mkdir(parents=True, exist_ok=True)
        for record_set in sets:
            _write(output / f"{record_set.domain}.yaml", _octodns(record_set))
        return
    if fmt is Format.octodns:
        text = _octodns(sets[0])
    elif fmt is Format.zone:
        text = render_zone(sets)
    elif fmt is Format.json:
        text = render_json(sets)
    else:
        text = render_txt(sets)
    if output is None:
        sys.stdout.write(text)
        return
    if output.is_dir():
        output = output / f"spf.{fmt.value}"
    _write(output, text)


def _octodns(record_set: RecordSet) -> str:
    from spfbuild.emit import render_octodns

    try:
        return render_octodns(record_set)
    except ValueError as exc:  # a record outside the domain's zone (a shared flatten.macro_zone)
        fail(f"{record_set.domain}: --format octodns writes one zone per domain: {exc}; use --format zone")


def _write(path: Path, text: str) -> None:
    from spfbuild.files import write_atomic

    try:
        write_atomic(path, text)
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")
