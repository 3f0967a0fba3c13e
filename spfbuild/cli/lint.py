"""`spfbuild lint`: check SPF record text offline."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, fail

if TYPE_CHECKING:
    from spfbuild.catalogue import Catalogue
    from spfbuild.linting import LintResult


@app.command()
def lint(
    record: Annotated[
        str | None, typer.Argument(help='Record text, e.g. "v=spf1 mx -all", or - to read stdin.')
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read records from FILE, one per line (- for stdin).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of results.")] = False,
) -> None:
    """Lint SPF records, and DMARC records (`v=DMARC1`), offline against every rule (see `spfbuild rules`).

    Exit status: 0 no errors (warnings allowed), 1 at least one error, 64 usage error.
    """
    from spfbuild.cli.output import format_diagnostic, summary
    from spfbuild.dmarc import is_dmarc_record
    from spfbuild.linting import lint_record
    from spfbuild.rules.dmarc import DmarcLintResult, lint_dmarc
    from spfbuild.rules.size import estimated

    lookups_of = _catalogue_lookups()
    results: list[tuple[str, int, LintResult | DmarcLintResult]] = [
        (source, line, lint_dmarc(text) if is_dmarc_record(text) else lint_record(text, lookups_of))
        for source, line, text in _inputs(record, file)]
    if as_json:
        from spfbuild import jsontext

        payload = [
            {
                "source": source,
                "line": line,
                "record": result.text,
                "ok": result.ok,
                "kind": "dmarc" if isinstance(result, DmarcLintResult) else "spf",
                # Includes are counted by the provider catalogue's figures, or as 1: exact only without any.
                "lookups": 0 if isinstance(result, DmarcLintResult) else estimated(result.parsed, lookups_of)[0],
                "lookups_exact": isinstance(result, DmarcLintResult) or not _follows(result),
                "diagnostics": [d.to_dict() for d in result.diagnostics],
            }
            for source, line, result in results
        ]
        print(jsontext.dumps(payload))
    else:
        for source, line, result in results:
            for diag in result.diagnostics:
                print(format_diagnostic(diag, result.text, source, line))
        print(summary([d for _, _, result in results for d in result.diagnostics], len(results)))
    raise typer.Exit(EXIT_ERROR if any(not r.ok for _, _, r in results) else EXIT_OK)


def _catalogue_lookups() -> Callable[[str], int | None]:
    """What an include costs by the shipped provider catalogue, which is read at the first
    include asked about (a record without includes needs none)."""
    loaded: list[Catalogue] = []

    def lookups_of(domain: str) -> int | None:
        from spfbuild.compose import catalogue_lookups

        if not loaded:
            from spfbuild.catalogue import load_catalogue

            loaded.append(load_catalogue())
        return catalogue_lookups(domain, loaded[0])

    return lookups_of


def _follows(result: LintResult) -> bool:
    """Whether the record leads to another record (include, redirect), whose cost lint can only estimate."""
    record = result.parsed.record
    return record.redirect is not None or any(m.kind == "include" for m in record.mechanisms)


def _inputs(record: str | None, file: Path | None) -> list[tuple[str, int, str]]:
    """(source, line number, record text) for each record to lint."""
    if record is not None and file is not None:
        fail("give either a RECORD or --file, not both", EXIT_USAGE)
    if file is not None:
        if str(file) == "-":
            return _lines("<stdin>", sys.stdin.read())
        try:
            return _lines(str(file), file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}", EXIT_USAGE)
    if record == "-":
        return _lines("<stdin>", sys.stdin.read())
    if record is None:
        fail("give a RECORD, - for stdin, or --file PATH (see spfbuild lint --help)", EXIT_USAGE)
    return [("<record>", 1, record)]


def _lines(source: str, text: str) -> list[tuple[str, int, str]]:
    found = [
        (source, number, line.rstrip("\r\n"))
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not found:
        fail(f"{source}: no records to lint", EXIT_USAGE)
    return found
