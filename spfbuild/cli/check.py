"""`spfbuild check`: audit the SPF records domains publish, one or thousands at a time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.app import BadValue, app
from spfbuild.cli.common import EXIT_DNS, EXIT_ERROR, EXIT_OK, EXIT_USAGE, fail, warn
from spfbuild.cli.options import DEFAULT_TIMEOUT, NameserverOption, ProvidersOption, TimeoutOption, make_resolver
from spfbuild.printable import shown

if TYPE_CHECKING:
    from spfbuild.audit import Report
    from spfbuild.dns import Resolver
    from spfbuild.rules.dns import Finding, Providers
    from spfbuild.tree import Node, TermLookup

DEFAULT_CONCURRENCY = 200  # spfbuild.audit.DEFAULT_CONCURRENCY, repeated so --help needs no import
DNS_TEMPERROR = "SPF510"  # the stable code of the dns-temperror finding: the domain could not be checked


def _at_least_one(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise BadValue(f"must be a whole number from 1 up, not {text!r}")
    return count


@app.command("check")
def check_command(
    domains: Annotated[
        list[str] | None,
        typer.Argument(metavar="[DOMAIN]...", help="Domains to check.", show_default=False),
    ] = None,
    from_file: Annotated[
        str | None,
        typer.Option(
            "--from-file", metavar="FILE",
            help="Also check the domains in FILE, one per line ('-' reads stdin); blank lines and # comments "
                 "are skipped.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list: one object per domain, in input order.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", metavar="N", parser=_at_least_one, help="Check up to N domains at once.")
    ] = DEFAULT_CONCURRENCY,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    providers: ProvidersOption = None,
) -> None:
    """Audit published SPF records: the record, every lint rule, and the DNS rules (SPF5xx) over the
    whole include tree: lookup count, void lookups, loops, missing or broken includes, and more.

    Each domain is shown as its include tree with each branch's DNS lookup cost, then its findings.
    One DNS cache serves the whole run, so providers shared by many domains are asked once.

    Exit status: 0 no domain has an error (warnings allowed), 1 at least one domain has an error,
    3 a domain could not be checked for a DNS failure (temperror), 64 usage error (no domains,
    unreadable file, bad option).
    """
    import asyncio

    names = list(domains or [])
    if from_file is not None:
        names += _read_domains(from_file)
    if not names:
        fail("no domains to check: give DOMAIN arguments or --from-file FILE", EXIT_USAGE)
    resolver = make_resolver(nameserver, timeout)
    errors, unchecked = asyncio.run(_run(names, resolver, concurrency, as_json, providers))
    raise typer.Exit(EXIT_DNS if unchecked else EXIT_ERROR if errors else EXIT_OK)


def _read_domains(path: str) -> list[str]:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--from-file: cannot read {path}: {getattr(exc, 'strerror', None) or exc}", EXIT_USAGE)
    # "#" cannot occur in a domain name, so everything after it is a comment.
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _providers(directory: Path | None = None) -> Providers | None:
    from spfbuild.audit import ProviderIndex
    from spfbuild.catalogue import load_for
    from spfbuild.provider import CatalogueError

    try:
        return ProviderIndex(load_for(directory))
    except CatalogueError as exc:
        warn(f"provider catalogue not loaded, provider rules skipped: {exc}")
        return None


async def _run(names: list[str], resolver: Resolver, concurrency: int, as_json: bool,
               directory: Path | None = None) -> tuple[int, int]:
    """Check every domain, printing each report as soon as those before it are printed;
    returns how many domains have an error, and how many could not be checked for a DNS failure."""
    import textwrap

    from spfbuild import jsontext
    from spfbuild.audit import audit_many
    from spfbuild.cli.progress import Progress

    progress = Progress(len(names), sys.stderr)
    errors = warned = unchecked = 0
    out = sys.stdout
    out.write("[\n" if as_json else "")
    async for report in audit_many(names, resolver, concurrency=concurrency, providers=_providers(directory)):
        progress.clear()
        if as_json:
            text = textwrap.indent(jsontext.dumps(report.to_dict(), ensure_ascii=False), "  ")
            out.write(("" if progress.done == 0 else ",\n") + text)
        else:
            lines = [shown(line) for line in render(report) + companion_lines(report)]  # DNS data may hold controls
            out.write(("" if progress.done == 0 else "\n") + "\n".join(lines) + "\n")
        errors += report.has_errors
        unchecked += any(f.diagnostic.code == DNS_TEMPERROR for f in report.findings)
        warned += not report.has_errors and bool(report.findings)
        progress.advance()
    progress.clear()
    if as_json:
        out.write("\n]\n")
    elif len(names) > 1:
        out.write(f"\n{len(names)} domains checked: {errors} with errors, {warned} with warnings only\n")
    return errors, unchecked


# ---------------------------------------------------------------------- the tree, for people


def render(report: Report) -> list[str]:
    """A domain's include tree, each branch with its lookup cost and findings, then the findings
    about the domain itself."""
    tree = report.tree
    if tree is None:
        return [f"{report.domain}  (not checked)", *(_finding_line(f) for f in report.findings)]
    root = tree.root
    by_node: dict[tuple[int, ...], list[Finding]] = {}
    for finding in report.findings:
        by_node.setdefault(finding.path, []).append(finding)
    head = f"{root.domain}  ({_lookups(root.lookups, tree.truncated)})"
    head += f"  {root.record}" if root.record is not None else _node_note(root)
    lines = [head, *_branches(root, (), "", by_node)]
    lines += [_finding_line(f) for f in by_node.get((), [])]
    return lines


def companion_lines(report: Report) -> list[str]:
    """The DMARC record and the DKIM selectors of the providers found, with their findings."""
    lines = []
    if report.dmarc is not None:
        lines.append(f"dmarc  {report.dmarc.name}  {report.dmarc.record or '[no DMARC record]'}")
        lines += [f"  {_finding_line(f)}" for f in report.dmarc.findings]
    for check in report.dkim:
        lines.append(f"dkim  {check.provider} {check.name}  [{check.status}]")
        if check.finding is not None:
            lines.append(f"  {_finding_line(check.finding)}")
    return lines


def _branches(node: Node, path: tuple[int, ...], prefix: str,
              by_node: dict[tuple[int, ...], list[Finding]]) -> Iterator[str]:
    from spfbuild.tree import TermLookup

    child_index = 0
    for number, branch in enumerate(node.branches):
        last = number == len(node.branches) - 1
        elbow, inner = ("└── ", "    ") if last else ("├── ", "│   ")
        if isinstance(branch, TermLookup):
            yield f"{prefix}{elbow}{branch.term}  (1){_term_note(branch)}"
            continue
        child_path = (*path, child_index)
        child_index += 1
        yield f"{prefix}{elbow}{branch.via}  ({branch.lookups}){_node_note(branch)}"
        for finding in by_node.get(child_path, []):
            yield f"{prefix}{inner}  {_finding_line(finding)}"
        yield from _branches(branch, child_path, prefix + inner, by_node)


def _lookups(count: int, truncated: bool) -> str:
    return f"{'at least ' if truncated else ''}{count} lookup{'' if count == 1 else 's'}"


def _node_note(node: Node) -> str:
    """Why a node has no record to show; the findings below it give the details."""
    return "" if node.fetched is not None and node.record is not None else f"  [{_STATUS[node.status.value]}]"


_STATUS = {
    "ok": "ok",
    "none": "no SPF record among its TXT records",
    "nxdomain": "no SPF record: the name does not exist",
    "nodata": "no SPF record: no TXT records",
    "multiple": "several SPF records",
    "temperror": "DNS failed",
    "invalid": "not a valid domain name",
    "dynamic": "depends on the sender: not followed",
    "loop": "loop: not followed",
    "truncated": "not followed: the tree is too deep or too large",
}


def _term_note(term: TermLookup) -> str:
    if term.target is None and term.problem is None:
        return "  [depends on the sender]"
    parts = []
    if term.exchanges:
        parts.append(f"{len(term.exchanges)} MX name{'' if len(term.exchanges) == 1 else 's'}")
    if term.mechanism.kind in ("a", "mx") and not term.problem:
        parts.append(f"{len(term.addresses)} address{'' if len(term.addresses) == 1 else 'es'}")
    if term.void:
        parts.append("void for " + " and ".join(f.replace("ip", "IP") for f in sorted(term.void)))
    return f"  [{', '.join(parts)}]" if parts else ""


def _finding_line(finding: Finding) -> str:
    d = finding.diagnostic
    column = f"column {d.column}: " if d.column else ""
    return f"{d.severity.value} {d.code} [{d.name}] {column}{d.message}"
