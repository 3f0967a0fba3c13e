"""`spfbuild providers`: the provider catalogue."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_USAGE, fail

providers_app = typer.Typer(help="List the provider catalogue, or show one provider.", add_completion=False)
app.add_typer(providers_app, name="providers")

JSON_OPTION = typer.Option("--json", help="Print JSON.")


@providers_app.callback(invoke_without_command=True)
def providers(ctx: typer.Context, as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """List every provider: id, name, include and regions."""
    if ctx.invoked_subcommand is not None:
        return
    from spfbuild.catalogue import load_catalogue

    catalogue = load_catalogue()
    if as_json:
        print(json.dumps([_summary(p) for p in catalogue], indent=2))
        return
    print(f"{'ID':<24} {'NAME':<34} {'INCLUDE':<36} REGIONS")
    for p in sorted(catalogue, key=lambda p: p.id):
        include = p.include or (p.include_for()[0] if p.default_region else "(by region)")
        regions = ", ".join(
            f"{r}*" if r == p.default_region else r for r in p.region_names
        ) or "-"
        print(f"{p.id:<24} {p.name[:34]:<34} {include:<36} {regions}")


@providers_app.command("show")
def show(
    provider_id: Annotated[str, typer.Argument(metavar="ID", help="Provider id or alias.")],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Show one provider in full."""
    from spfbuild.catalogue import CatalogueError, load_catalogue

    try:
        p = load_catalogue().get(provider_id)
    except CatalogueError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        print(json.dumps(_full(p), indent=2))
        return
    rows = [
        ("id", p.id), ("name", p.name), ("aliases", ", ".join(p.aliases) or "-"), ("category", p.category),
        ("description", p.description), ("documentation", p.documentation),
        ("include", p.include or "-"),
    ]
    if p.ip4 or p.ip6:
        rows.append(("ranges", " ".join((*p.ip4, *p.ip6))))
    for region, include in p.regions:
        default = " (default)" if region == p.default_region else ""
        covers = p.covered_regions(region)
        covered = f"; covers {', '.join(sorted(covers))}" if covers else ""
        rows.append((f"region {region}", f"{include}{default}{covered}"))
    for variant, pairs in p.variants:
        for region, include in pairs:
            rows.append((f"{variant} {region}", include))
    rows += [
        ("lookups", str(p.lookups)),
        ("keep include", f"yes: {p.keep_reason}" if p.keep else "no (may be flattened)"),
        ("custom return-path", "yes" if p.custom_return_path else "no"),
        ("return-path note", p.return_path_note),
        ("notes", p.notes or "-"),
    ]
    for key, value in rows:
        print(f"{key + ':':<20} {value}")


def _summary(p: object) -> dict[str, object]:
    from spfbuild.catalogue import Provider

    assert isinstance(p, Provider)
    return {"id": p.id, "name": p.name, "include": p.include, "regions": dict(p.regions),
            "default_region": p.default_region}


def _full(p: object) -> dict[str, object]:
    from spfbuild.catalogue import Provider

    assert isinstance(p, Provider)
    return {
        **_summary(p), "aliases": list(p.aliases), "category": p.category, "description": p.description,
        "documentation": p.documentation, "ip4": list(p.ip4), "ip6": list(p.ip6),
        "covers": {r: list(c) for r, c in p.covers},
        "variants": {v: dict(pairs) for v, pairs in p.variants}, "lookups": p.lookups, "keep": p.keep,
        "keep_reason": p.keep_reason, "custom_return_path": p.custom_return_path,
        "return_path_note": p.return_path_note, "notes": p.notes,
    }
