"""`spfbuild providers`: the provider catalogue (list, show, search, refresh)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild import jsontext
from spfbuild.cli.app import App, app
from spfbuild.cli.common import EXIT_CODES_HELP, EXIT_ERROR, EXIT_USAGE, fail
from spfbuild.cli.options import DEFAULT_TIMEOUT, NameserverOption, ProvidersOption, TimeoutOption

if TYPE_CHECKING:
    from spfbuild.catalogue import Catalogue
    from spfbuild.provider import Provider

providers_app = App(epilog=EXIT_CODES_HELP, help="List, show, search or re-measure the provider catalogue.",
                    add_completion=False)
app.add_typer(providers_app, name="providers")

JSON_OPTION = typer.Option("--json", help="Print JSON.")


def _catalogue(directory: Path | None) -> Catalogue:
    from spfbuild.catalogue import load_for
    from spfbuild.provider import CatalogueError

    try:
        return load_for(directory)
    except CatalogueError as exc:
        fail(str(exc), EXIT_USAGE if directory is not None else EXIT_ERROR)


@providers_app.callback(invoke_without_command=True)
def providers(ctx: typer.Context, as_json: Annotated[bool, JSON_OPTION] = False,
              directory: ProvidersOption = None) -> None:
    """List every provider: id, includes (regions, variants), lookup cost with its basis, flags."""
    if ctx.invoked_subcommand is not None:
        return
    _print_table(list(_catalogue(directory)), as_json)


@providers_app.command("search")
def search(word: Annotated[str, typer.Argument(metavar="WORD", help="Part of a name, alias or include.")],
           as_json: Annotated[bool, JSON_OPTION] = False, directory: ProvidersOption = None) -> None:
    """Find providers by name, alias or include (`mcsv` finds Mailchimp). Exit 1 when none match."""
    found = list(_catalogue(directory).search(word))
    _print_table(found, as_json)
    if not found:
        raise typer.Exit(EXIT_ERROR)


@providers_app.command("show")
def show(
    provider_id: Annotated[str, typer.Argument(metavar="ID", help="Provider id or alias.")],
    as_json: Annotated[bool, JSON_OPTION] = False,
    directory: ProvidersOption = None,
) -> None:
    """Show one provider in full, with its sources."""
    from spfbuild.provider import CatalogueError

    try:
        p = _catalogue(directory).get(provider_id)
    except CatalogueError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        print(jsontext.dumps(_full(p)))
        return
    for key, value in _rows(p):
        print(f"{key + ':':<22} {value}")


@providers_app.command("refresh")
def refresh(
    provider_ids: Annotated[list[str] | None, typer.Argument(metavar="[ID]...", help="Only these providers.")] = None,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    write: Annotated[bool, typer.Option("--write", help="Write the new figures into the --providers files.")] = False,
    directory: ProvidersOption = None,
) -> None:
    """Measure each provider's lookup cost against DNS and show old -> new.

    With --write, the files read from --providers DIR (or SPFBUILD_PROVIDERS) get the new figures
    and today's date as `lookups_measured`. Exit 1 when a figure changed or could not be measured.
    """
    import asyncio

    from spfbuild.cli.options import make_resolver
    from spfbuild.provider import CatalogueError
    from spfbuild.provider_refresh import measure, write_measurements

    catalogue = _catalogue(directory)
    try:
        chosen = [catalogue.get(i) for i in provider_ids] if provider_ids else list(catalogue)
    except CatalogueError as exc:
        fail(str(exc), EXIT_USAGE)
    resolver = make_resolver(nameserver, timeout)
    found = asyncio.run(measure(chosen, resolver))
    for m in found:
        where = f"{m.provider} ({m.region})" if m.region else m.provider
        result = m.problem if m.new is None else f"{m.old} -> {m.new}" + ("" if m.changed else " (unchanged)")
        print(f"{where:<32} {m.target:<40} {result}")
    if write:
        writable = {d.resolve() for d in catalogue.user_directories}
        if directory is not None:
            writable.add(directory.resolve())
        for p in chosen:
            if p.origin is None or p.origin.resolve().parent not in writable:
                continue
            if write_measurements(p.origin, [m for m in found if m.provider == p.id]):
                print(f"wrote {p.origin}")
    if any(m.changed or m.new is None for m in found):
        raise typer.Exit(EXIT_ERROR)


# --- presentation ----------------------------------------------------------------------------


def _includes(p: Provider) -> str:
    def name(target: str) -> str:
        return target if p.mechanism == "include" else f"{p.mechanism}:{target}"

    parts = [f"{label}={name(t)}" if label else name(t) for label, t in p.targets()]
    if p.ip4 or p.ip6:
        parts.append(" ".join((*p.ip4, *p.ip6)))
    if p.default_region:
        parts = [f"{part}*" if part.startswith(f"{p.default_region}=") else part for part in parts]
    return ", ".join(parts)


def _cost(p: Provider) -> str:
    return f"{p.lookups} ({p.lookups_basis})"


def _print_table(found: list[Provider], as_json: bool) -> None:
    if as_json:
        print(jsontext.dumps([_summary(p) for p in found]))
        return
    print(f"{'ID':<24} {'LOOKUPS':<22} {'FLAGS':<26} INCLUDES")
    for p in sorted(found, key=lambda p: p.id):
        flags = ",".join(p.flags + (("override",) if p.overrides else ())) or "-"
        print(f"{p.id:<24} {_cost(p):<22} {flags:<26} {_includes(p)}")


def _summary(p: Provider) -> dict[str, object]:
    return {
        "id": p.id, "name": p.name, "include": p.include, "mechanism": p.mechanism, "regions": dict(p.regions),
        "default_region": p.default_region, "variants": {v: dict(pairs) for v, pairs in p.variants},
        "lookups": p.lookups, "lookups_basis": p.lookups_basis, "lookups_measured": p.lookups_measured,
        "flags": list(p.flags), "override": str(p.overrides) if p.overrides else None,
    }


def _full(p: Provider) -> dict[str, object]:
    return {
        **_summary(p), "aliases": list(p.aliases), "category": p.category, "description": p.description,
        "documentation": p.documentation, "ip4": list(p.ip4), "ip6": list(p.ip6),
        "covers": {r: list(c) for r, c in p.covers}, "region_lookups": dict(p.region_lookups),
        "parameters": {q.name: {"description": q.description, "pattern": q.pattern, "example": q.example}
                       for q in p.parameters},
        "keep": p.keep, "keep_literal": p.keep_literal, "macro": p.macro, "keep_reason": p.keep_reason,
        "placement": p.placement, "mail_from_subdomain": p.mail_from_subdomain,
        "dkim": {"record": p.dkim.record, "selectors": list(p.dkim.selectors), "targets": dict(p.dkim.targets),
                 "signs_with_customer_domain": p.dkim.signs_with_customer_domain, "note": p.dkim.note},
        "custom_return_path": p.custom_return_path, "return_path_note": p.return_path_note, "notes": p.notes,
        "sources": [{"url": s.url, "read": s.read, "confidence": s.confidence, "facts": list(s.facts),
                     "says": s.says} for s in p.sources],
        "file": str(p.origin) if p.origin else None,
    }


def _rows(p: Provider) -> list[tuple[str, str]]:
    rows = [("id", p.id), ("name", p.name), ("aliases", ", ".join(p.aliases) or "-"), ("category", p.category),
            ("description", p.description), ("documentation", p.documentation), ("includes", _includes(p) or "-")]
    rows += [(f"parameter {q.name}", f"{q.description} (e.g. {q.example})") for q in p.parameters]
    for region, _ in p.regions:
        covers = p.covered_regions(region)
        if covers:
            rows.append((f"region {region} covers", ", ".join(sorted(covers))))
    rows += [(f"lookups {region}", str(cost)) for region, cost in p.region_lookups]
    rows += [
        ("lookups", _cost(p)),
        ("flags", ", ".join(p.flags) or "-"),
        ("kept as written", f"yes: {p.keep_reason}" if p.keep else "no (may be flattened)"),
        ("placement", p.placement if p.placement == "apex" else f"mail-from (e.g. {p.mail_from_subdomain}.<domain>)"),
        ("dkim", _dkim(p)),
        ("custom return-path", "yes" if p.custom_return_path else "no"),
        ("return-path note", p.return_path_note),
        ("notes", p.notes or "-"),
    ]
    if p.overrides:
        rows.append(("overrides", str(p.overrides)))
    rows.append(("file", str(p.origin) if p.origin else "-"))
    rows += [(f"source {i + 1}", f"{s.url} (read {s.read}, {s.confidence}; {', '.join(s.facts)})"
              + (f": {s.says}" if s.says else "")) for i, s in enumerate(p.sources)]
    return rows


def _dkim(p: Provider) -> str:
    d = p.dkim
    if d.record == "unknown":
        return "unknown (no source read gives it)"
    signs = {True: "signs with the customer's domain", False: "does not sign with the customer's domain",
             None: "signing domain unknown"}[d.signs_with_customer_domain]
    selectors = ", ".join(f"{s} -> {dict(d.targets)[s]}" if s in dict(d.targets) else s for s in d.selectors)
    return f"{d.record}; selectors {selectors or 'shown per account'}; {signs}" + (f"; {d.note}" if d.note else "")
