"""`spfbuild lint`, `render` and `flatten` without the typer start-up, and the work of lint and render.

The offline commands run in pre-commit hooks, CI steps and loops over files, and flatten runs from
cron over many domains, so they should start about as fast as Python does. `spfbuild.cli.main`
calls `run()` before the typer application is imported: a plain invocation (known options, each
given once except the repeatable `--nameserver`, numbers that read as numbers, the arguments in
place) is parsed here and run; anything else (`--help`, an unknown or repeated option, a missing
argument, a bad `--format`, `--`) returns, and typer parses it, so help and usage errors stay
exactly typer's.

The typer commands (`spfbuild.cli.lint`, `render`, `flatten`) call the same `lint_command`,
`render_command` and `spfbuild.cli.flattening.flatten_command`: one implementation, two ways in.
This module imports neither typer nor click, pydantic, asyncio, dnspython or netaddr; `lint`
reads no YAML and imports no pathlib.
"""

from __future__ import annotations

import sys
from enum import StrEnum

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import NoReturn

    from spfbuild.emit import RecordSet

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class Format(StrEnum):
    txt = "txt"
    zone = "zone"
    json = "json"
    octodns = "octodns"


class CommandExit(Exception):
    """Ends a command with exit status `code`; its message, if any, is already on stderr."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """One clear line on stderr, then the command ends; never a traceback."""
    print(f"spfbuild: error: {message}", file=sys.stderr)
    raise CommandExit(code)


def warn(message: str) -> None:
    print(f"spfbuild: warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------------- the fast way in


def run(argv: Sequence[str]) -> None:
    """Run `argv` (without the program name) here if it is a plain lint, render or flatten
    invocation, exiting with the command's status; return without doing anything otherwise."""
    if not argv or argv[0] not in _COMMANDS:
        return
    values, flags, positional = _COMMANDS[argv[0]]
    parsed = _parse(argv[1:], values, flags, _REPEATABLE)
    if parsed is None:
        return
    options, arguments = parsed
    if argv[0] == "lint":
        if len(arguments) > positional:
            return
        file = _one(options, "file")
        code = lint_command(arguments[0] if arguments else None, None if file is None else _path_text(file),
                            "as_json" in options)
    elif len(arguments) != positional or (_one(options, "fmt") or "txt") not in Format.__members__:
        return
    elif argv[0] == "render":
        code = _render_args(arguments[0], options)
    else:
        flattened = _flatten_args(arguments[0], options)
        if flattened is None:
            return
        code = flattened
    raise SystemExit(code)


def _render_args(config: str, options: dict[str, list[str]]) -> int:
    from pathlib import Path

    output = _one(options, "output")
    return render_command(Path(config), Format(_one(options, "fmt") or "txt"),
                          None if output is None else Path(output), _one(options, "existing"), "quiet" in options)


def _flatten_args(config: str, options: dict[str, list[str]]) -> int | None:
    """Run flatten; None (typer parses instead) when a number does not read as one."""
    from pathlib import Path

    from spfbuild.cli.flattening import FlattenOptions, flatten_command

    numbers: dict[str, float] = {}
    for key, default in (("timeout", FlattenOptions.timeout), ("max_shrink", FlattenOptions.max_shrink)):
        text = _one(options, key)
        try:
            numbers[key] = default if text is None else float(text)
        except ValueError:
            return None

    def path(key: str) -> Path | None:
        text = _one(options, key)
        return None if text is None else Path(text)

    return flatten_command(FlattenOptions(
        Path(config), fmt=Format(_one(options, "fmt") or "txt"), output=path("output"), explain="explain" in options,
        nameservers=tuple(options.get("nameserver", ())), timeout=numbers["timeout"], state=path("state"),
        check="check" in options, force="force" in options, max_shrink=numbers["max_shrink"],
        push=_one(options, "push"), tsig_key=path("tsig_key"),
    ))


_FORMAT_AND_OUTPUT = {"--format": "fmt", "-F": "fmt", "--output": "output", "-o": "output"}
# command: (options taking a value, flags, positional arguments at most), names as the typer commands have them
_COMMANDS: dict[str, tuple[dict[str, str], dict[str, str], int]] = {
    "lint": ({"--file": "file", "-f": "file"}, {"--json": "as_json"}, 1),
    "render": ({**_FORMAT_AND_OUTPUT, "--existing": "existing"}, {"--quiet": "quiet", "-q": "quiet"}, 1),
    "flatten": (
        {
            **_FORMAT_AND_OUTPUT, "--nameserver": "nameserver", "--timeout": "timeout", "--state": "state",
            "--max-shrink": "max_shrink", "--push": "push", "--tsig-key": "tsig_key",
        },
        {"--explain": "explain", "--check": "check", "--force": "force"},
        1,
    ),
}
_REPEATABLE = frozenset({"nameserver"})


def _one(options: dict[str, list[str]], key: str) -> str | None:
    given = options.get(key)
    return given[0] if given else None


def _parse(
    args: Sequence[str], values: dict[str, str], flags: dict[str, str], repeatable: frozenset[str]
) -> tuple[dict[str, list[str]], list[str]] | None:
    """Options (each value option's values, in order; flags map to []) and positional arguments,
    or None for anything but the plainest use."""
    options: dict[str, list[str]] = {}
    arguments: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg.partition("=")
            index += 1
        elif arg in values:
            if index + 1 == len(args):
                return None
            name, value = arg, args[index + 1]
            index += 2
        elif arg in flags:
            if flags[arg] in options:
                return None
            options[flags[arg]] = []
            index += 1
            continue
        elif arg and (arg == "-" or not arg.startswith("-")):
            arguments.append(arg)
            index += 1
            continue
        else:
            return None  # --help, --, an unknown option, a cluster of short options, an empty argument
        key = values.get(name)
        if key is None or (key in options and key not in repeatable) or not value or (
            value.startswith("-") and value != "-"
        ):
            return None
        options.setdefault(key, []).append(value)
    return options, arguments


def _path_text(text: str) -> str:
    """`str(pathlib.Path(text))` on POSIX, without importing pathlib: empty and "." parts dropped,
    exactly two leading slashes kept."""
    stripped = text.lstrip("/")
    root = "//" if len(text) - len(stripped) == 2 else "/" if text.startswith("/") else ""
    parts = [part for part in stripped.split("/") if part and part != "."]
    return root + "/".join(parts) or "."


# ---------------------------------------------------------------------- lint


def lint_command(record: str | None, file: str | None, as_json: bool) -> int:
    """`spfbuild lint`: print each finding (or JSON); the exit status."""
    try:
        return _lint(record, file, as_json)
    except CommandExit as done:
        return done.code


def _lint(record: str | None, file: str | None, as_json: bool) -> int:
    from spfbuild.cli.output import format_diagnostic, summary
    from spfbuild.diagnostics import Diagnostic
    from spfbuild.linting import LintResult, lint_record

    inputs = _lint_inputs(record, file)
    results: list[tuple[str, int, LintResult]] = []
    all_diags: list[Diagnostic] = []
    for source, line, text in inputs:
        result = lint_record(text)
        results.append((source, line, result))
        all_diags.extend(result.diagnostics)
    if as_json:
        import json

        payload = [
            {
                "source": source,
                "line": line,
                "record": result.text,
                "ok": result.ok,
                "lookups": result.parsed.record.dns_lookups,
                "diagnostics": [d.to_dict() for d in result.diagnostics],
            }
            for source, line, result in results
        ]
        print(json.dumps(payload, indent=2))
    else:
        for source, line, result in results:
            for diag in result.diagnostics:
                print(format_diagnostic(diag, result.text, source, line))
        print(summary(all_diags, len(results)))
    return EXIT_ERROR if any(not r.ok for _, _, r in results) else EXIT_OK


def _lint_inputs(record: str | None, file: str | None) -> list[tuple[str, int, str]]:
    if record is not None and file is not None:
        fail("give either a RECORD or --file, not both", EXIT_USAGE)
    if file is not None:
        if file == "-":
            return _lines("<stdin>", sys.stdin.read())
        try:
            with open(file, encoding="utf-8") as handle:
                return _lines(file, handle.read())
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


# ---------------------------------------------------------------------- render


def render_command(config: Path, fmt: Format, output: Path | None, existing: str | None, quiet: bool,
                   providers: Path | None = None) -> int:
    """`spfbuild render`: compose, lint and emit each domain's record; the exit status."""
    try:
        _render(config, fmt, output, existing, quiet, providers)
    except CommandExit as done:
        return done.code
    return EXIT_OK


def _render(config: Path, fmt: Format, output: Path | None, existing: str | None, quiet: bool,
            providers: Path | None = None) -> None:
    from spfbuild.catalogue import CatalogueError, load_for
    from spfbuild.config import ConfigError, load_config
    from spfbuild.rendering import Rendered, RenderError, render_domain

    try:
        catalogue = load_for(providers, config)
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
            for message in item.warnings:
                warn(f"{item.spec.domain}: {message}")
            for message in item.notes:
                print(f"spfbuild: note: {item.spec.domain}: {message}", file=sys.stderr)
    emit_sets([r.record_set for r in rendered], fmt, output)


def emit_sets(sets: Sequence[RecordSet], fmt: Format, output: Path | None) -> None:
    """Print or atomically write record sets in the chosen format (render and flatten).
    Raises CommandExit after a one-line error."""
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
