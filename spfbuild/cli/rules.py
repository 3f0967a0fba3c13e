"""`spfbuild rules`: list the lint rules, or explain one."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_USAGE, fail


@app.command()
def rules(
    code: Annotated[str | None, typer.Argument(help="A rule code (SPF112) or name to explain.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every rule with its stable code, name and severity, or explain one rule."""
    from spfbuild.diagnostics import Rule, all_rules, find_rule

    def as_dict(rule: Rule) -> dict[str, str]:
        return {
            "code": rule.code,
            "name": rule.name,
            "severity": rule.severity.value,
            "summary": rule.summary,
            "fix": rule.fix,
            "explanation": rule.explanation,
        }

    if code is None:
        if as_json:
            print(json.dumps([as_dict(r) for r in all_rules()], indent=2))
            return
        for rule in all_rules():
            print(f"{rule.code}  {rule.name:<24} {rule.severity.value:<8} {rule.summary}")
        return
    found = find_rule(code)
    if found is None:
        fail(f"unknown rule {code!r}; `spfbuild rules` lists them", EXIT_USAGE)
    rule = found
    if as_json:
        print(json.dumps(as_dict(rule), indent=2))
        return
    print(f"{rule.code} {rule.name} ({rule.severity.value})\n")
    print(rule.summary)
    if rule.explanation:
        print(f"\n{rule.explanation}")
    print(f"\nFix: {rule.fix}")
