"""`spfbuild render`: senders.yaml -> validated SPF record, offline."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_USAGE, fail, warn

if TYPE_CHECKING:
    from spfbuild.emit import RecordSet


class Format(StrEnum):
    txt = "txt"
    zone = "zone"
    json = "json"
    octodns = "octodns"


FORMAT_OPTION = typer.Option("--format", "-F", help="txt (DNS console value), zone, json or octodns.")
OUTPUT_OPTION = typer.Option(
    "--output", "-o", help="Write to FILE atomically (a directory for octodns with several domains)."
)


@app.command()
def render(
    config: Annotated[Path, typer.Argument(help="senders.yaml: the domain(s) and who sends mail for them.")],
    fmt: Annotated[Format, FORMAT_OPTION] = Format.txt,
    output: Annotated[Path | None, OUTPUT_OPTION] = None,
    existing: Annotated[
        str | None, typer.Option("--existing", help='A published record to extend, e.g. "v=spf1 mx ~all".')
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print lint warnings.")] = False,
) -> None:
    """Render the SPF record for each domain in CONFIG, offline, linted before it is emitted.

    Exit status: 0 rendered, 1 a config or record error (nothing is written), 2 usage error.
    """
    from spfbuild.catalogue import CatalogueError, load_catalogue
    from spfbuild.config import ConfigError, load_config
    from spfbuild.render import Rendered, RenderError, render_domain

    try:
        catalogue = load_catalogue()
        cfg = load_config(config, catalogue)
    except (ConfigError, CatalogueError) as exc:
        fail(str(exc))
    if existing is not None and len(cfg.domains) != 1:
        fail("--existing applies to a config with one domain", EXIT_USAGE)
    rendered: list[Rendered] = []
    errors: list[str] = []
    for spec in cfg.domains:
        try:
            rendered.append(render_domain(spec, catalogue, existing))
        except RenderError as exc:
            errors.append(str(exc))
    if errors:
        for message in errors[:-1]:
            print(f"spfbuild: error: {message}", file=sys.stderr)
        fail(errors[-1] if len(errors) == 1 else f"{errors[-1]} ({len(errors)} domains failed; nothing written)")
    if not quiet:
        for item in rendered:
            for diag in item.diagnostics:
                warn(f"{item.spec.domain}: {diag.code} [{diag.name}] {diag.message}")
    emit_sets([r.record_set for r in rendered], fmt, output)


def emit_sets(sets: Sequence[RecordSet], fmt: Format, output: Path | None) -> None:
    """Print or atomically write record sets in the chosen format (shared with flatten)."""
    from spfbuild.emit import render_json, render_octodns, render_txt, render_zone

    # octoDNS reads a directory of <zone>.yaml files: an output path not named *.yaml is that directory.
    as_directory = output is not None and (output.is_dir() or output.suffix not in (".yaml", ".yml"))
    if fmt is Format.octodns and (len(sets) > 1 or as_directory):
        if output is None:
            fail("--format octodns with several domains needs --output DIR (one <domain>.yaml each)", EXIT_USAGE)
        output.mkdir(parents=True, exist_ok=True)
        for record_set in sets:
            _write(output / f"{record_set.domain}.yaml", render_octodns(record_set))
        return
    if fmt is Format.octodns:
        text = render_octodns(sets[0])
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


def _write(path: Path, text: str) -> None:
    from spfbuild.files import write_atomic

    try:
        write_atomic(path, text)
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")
