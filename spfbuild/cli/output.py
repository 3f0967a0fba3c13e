"""What commands show and write: diagnostics for people (`source:line:col`, a caret under the
problem, the fix) and record sets in the chosen format, printed or written atomically."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from spfbuild.cli.common import EXIT_USAGE, fail
from spfbuild.cli.options import Format

if TYPE_CHECKING:
    from spfbuild.diagnostics import Diagnostic
    from spfbuild.emit import RecordSet, TxtRecord


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


# The file name of each format in a directory of per-domain files (octoDNS reads <zone>.yaml).
EXTENSIONS = {Format.txt: "txt", Format.zone: "zone", Format.json: "json", Format.octodns: "yaml"}


def is_directory(output: Path, fmt: Format) -> bool:
    """`--output DIR`: an existing directory or a path written with a trailing `/` (octoDNS's
    output is a directory unless it is named *.yaml)."""
    if output.is_dir() or getattr(output, "as_directory", False):
        return True
    return fmt is Format.octodns and output.suffix not in (".yaml", ".yml")


def emit_sets(sets: Sequence[RecordSet], fmt: Format, output: Path | None) -> None:
    """Print or atomically write record sets in the chosen format (render and flatten): with a
    directory, one `<domain>.<ext>` file per domain, each holding only that domain's records."""
    from spfbuild.emit import render_json, render_txt, render_zone

    if output is not None and is_directory(output, fmt):
        write_domain_files(sets, fmt, output)
        return
    if fmt is Format.octodns and len(sets) > 1:
        fail("--format octodns with several domains needs --output DIR (one <domain>.yaml each)", EXIT_USAGE)
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
    _write(output, text)


def write_domain_files(sets: Sequence[RecordSet], fmt: Format, directory: Path) -> None:
    """One file per domain in `directory` (created when missing), each written atomically and
    only when its content changes; files of domains not in `sets` are left as they are."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{directory}: cannot create the directory: {exc.strerror or exc}")
    files: dict[Path, str] = {}
    if fmt is Format.zone:
        sets, shared = _shared_zones(sets)
        files |= {directory / f"{base}.zone": text for base, text in shared.items()}
    for record_set in sets:
        files[directory / f"{record_set.domain}.{EXTENSIONS[fmt]}"] = domain_text(record_set, fmt)
    for path, text in files.items():
        if not _holds(path, text):
            _write(path, text)


def _shared_zones(sets: Sequence[RecordSet]) -> tuple[list[RecordSet], dict[str, str]]:
    """The record sets without the compiled records outside their domain (a shared
    `flatten.macro_zone`), and a zone file per shared base holding those: each domain's file
    stays loadable in its own zone, and domains sharing a base share its records."""
    from dataclasses import replace

    from spfbuild.compiled.names import shared_base
    from spfbuild.emit import RecordSet, render_zone

    inside: list[RecordSet] = []
    bases: dict[str, dict[str, TxtRecord]] = {}
    for record_set in sets:
        suffix = "." + record_set.domain
        kept: list[TxtRecord] = []
        for record in record_set.records:
            if record.name == record_set.domain or record.name.endswith(suffix):
                kept.append(record)
            elif (base := shared_base(record.name)) is not None:
                bases.setdefault(base, {})[record.name] = record
        inside.append(replace(record_set, records=tuple(kept)))
    shared = {base: render_zone([RecordSet(base, tuple(records[n] for n in sorted(records)))])
              for base, records in bases.items()}
    return inside, shared


def domain_text(record_set: RecordSet, fmt: Format) -> str:
    """One domain's file: its zone file is loadable as an `$INCLUDE` in that domain's zone."""
    from spfbuild.emit import render_json, render_txt, render_zone

    render = {Format.txt: render_txt, Format.zone: render_zone, Format.json: render_json}
    if fmt is Format.octodns:
        return _octodns(record_set)
    return render[fmt]([record_set])


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


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
