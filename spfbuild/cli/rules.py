"""`spfbuild rules`: list the lint rules, or explain one."""

from __future__ import annotations

from typing import Annotated

import typer

from spfbuild import jsontext
from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_USAGE, fail


@app.command()
def rules(
    code: Annotated[str | None, typer.Argument(help="A rule code (SPF112) or name to explain.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every rule with its stable code, name and severity, or explain one rule."""
    from spfbuild.rules.registry import RULES, find_rule  # the declarations alone: no parser, no DNS

    if code is None:
        if as_json:
            print(jsontext.dumps([r.to_dict() for r in RULES]))
            return
        for rule in RULES:
            print(f"{rule.code}  {rule.name:<24} {rule.severity.value:<8} {rule.summary}")
        return
    found = find_rule(code)
    if found is None:
        fail(f"unknown rule {code!r}; `spfbuild rules` lists them", EXIT_USAGE)
    rule = found
    if as_json:
        print(jsontext.dumps(rule.to_dict()))
        return
    print(f"{rule.code} {rule.name} ({rule.severity.value})\n")
    print(rule.summary)
    if rule.explanation:
        print(f"\n{rule.explanation}")
    print(f"\nFix: {rule.fix}")
