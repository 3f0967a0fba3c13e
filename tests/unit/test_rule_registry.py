"""The rule registry: every rule is declared once, as data, in `spfbuild.rules.registry` (SPF) or
`spfbuild.rules.dmarc_rules` (DMARC), and listed by the registry; each has a check that fires it;
the declarations load without the parser, the tree or DNS."""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spfbuild.audit import audit
from spfbuild.diagnostics import Diagnostic, Rule, Severity
from spfbuild.linting import lint_record
from spfbuild.rules import dmarc_rules, registry
from spfbuild.rules.dmarc import lint_dmarc
from spfbuild.rules.registry import RULES, find_rule

from . import test_audit, test_companion_audit, test_dmarc_rules, test_lint_rules

PACKAGE = Path(registry.__file__).parents[1]

# A record or a domain that fires each rule, taken from the cases of its family's tests.
OFFLINE_EXAMPLES = {code: fires for code, fires, _ in test_lint_rules.CASES}
DNS_EXAMPLES = {code: fires for code, fires, _ in test_audit.CASES}
DMARC_EXAMPLES = {code: record for record, code, _ in reversed(test_dmarc_rules.CASES)}
DNS_EXAMPLES |= {code: fires for code, fires, _ in test_companion_audit.CASES if code not in DMARC_EXAMPLES}


def fired(rule: Rule) -> list[Diagnostic]:
    """The diagnostics of `rule` that its example produces."""
    if rule.code in OFFLINE_EXAMPLES:
        found = lint_record(OFFLINE_EXAMPLES[rule.code], test_lint_rules.lookups_of).diagnostics
    elif rule.code in DMARC_EXAMPLES:
        found = lint_dmarc(DMARC_EXAMPLES[rule.code]).diagnostics
    elif rule.code == "SPF500":  # raised before any DNS question, so it has no resolver case
        found = tuple(f.diagnostic for f in asyncio.run(audit("http://example.com/", test_audit.zone(""))).findings)
    else:
        resolver = DNS_EXAMPLES[rule.code]()
        report = asyncio.run(audit("example.com", resolver, test_audit.PROVIDERS))
        found = tuple(f.diagnostic for f in (*report.findings, *report.companion_findings))
    return [d for d in found if d.code == rule.code]


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_every_declared_rule_has_a_check_that_fires_it(rule: Rule) -> None:
    diagnostics = fired(rule)
    assert diagnostics, f"{rule.code} has no example that fires it"
    for diagnostic in diagnostics:
        assert (diagnostic.name, diagnostic.severity) == (rule.name, rule.severity)
        assert diagnostic.message and "\n" not in diagnostic.message


class TestDeclarations:
    def test_codes_and_names_are_unique(self) -> None:
        assert len({r.code for r in RULES}) == len(RULES)
        assert len({r.name for r in RULES}) == len(RULES)

    def test_codes_are_stable_and_names_kebab_case(self) -> None:
        for rule in RULES:
            assert re.fullmatch(r"SPF[1-5]\d\d|DMARC1\d\d", rule.code), rule.code
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name

    def test_every_rule_says_what_is_wrong_and_how_to_fix_it_in_one_line(self) -> None:
        for rule in RULES:
            assert isinstance(rule.severity, Severity)
            assert rule.summary and rule.fix
            assert "\n" not in rule.summary + rule.fix + rule.explanation

    def test_the_registry_lists_every_declaration_in_code_order(self) -> None:
        declared = [value for module in (registry, dmarc_rules) for value in vars(module).values()
                    if isinstance(value, Rule)]
        assert sorted(declared, key=lambda r: r.code) == list(RULES)
        assert [r.code for r in RULES] == sorted(r.code for r in RULES)

    def test_only_the_registry_declares_rules(self) -> None:
        declaring = sorted(
            str(path.relative_to(PACKAGE))
            for path in PACKAGE.rglob("*.py")
            if re.search(r"\bRule\(", path.read_text(encoding="utf-8"))
        )
        assert declaring == ["rules/dmarc_rules.py", "rules/registry.py"]

    def test_a_rule_is_found_by_code_in_any_case_or_by_name(self) -> None:
        assert find_rule("SPF112") is registry.TYPOGRAPHIC
        assert find_rule(" spf112 ") is registry.TYPOGRAPHIC
        assert find_rule("typographic-lookalike") is registry.TYPOGRAPHIC
        assert find_rule("SPF999") is None


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
    return found


class TestLightness:
    def test_diagnostics_is_a_leaf(self) -> None:
        assert not {m for m in imported_modules(PACKAGE / "diagnostics.py") if m.startswith("spfbuild")}

    def test_the_registry_reads_only_the_value_types_and_the_limits(self) -> None:
        spfbuild_imports = {m for m in imported_modules(PACKAGE / "rules" / "registry.py") if m.startswith("spfbuild")}
        assert spfbuild_imports == {"spfbuild.diagnostics", "spfbuild.limits", "spfbuild.rules"}
        dmarc_imports = {m for m in imported_modules(PACKAGE / "rules" / "dmarc_rules.py") if m.startswith("spfbuild")}
        assert dmarc_imports == {"spfbuild.diagnostics"}

    def test_loading_the_registry_loads_no_parser_tree_dns_or_asyncio(self) -> None:
        code = "import sys, spfbuild.rules.registry; print(' '.join(sorted(sys.modules)))"
        loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                     .stdout.split())
        heavy = {"asyncio", "dns", "netaddr", "spfbuild.record", "spfbuild.recordparse", "spfbuild.tree", "spfbuild.dns", "spfbuild.mechanisms"}
        assert not loaded & heavy
