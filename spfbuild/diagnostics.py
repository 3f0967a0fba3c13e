"""Diagnostics and the rule registry.

Every finding spfbuild reports comes from a registered `Rule`: a stable code, a kebab-case
name, a severity, a one-line summary and a fix hint, in the manner of ruff. Codes never
change meaning once released; retired rules keep their code reserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    fix: str
    explanation: str = ""

    def __call__(
        self,
        message: str,
        *,
        column: int = 0,
        length: int = 1,
        fix: str | None = None,
        severity: Severity | None = None,
    ) -> Diagnostic:
        """A finding of this rule; `column` is 1-based, 0 when it concerns the whole record.
        `severity` raises a rule's default where the same fault is worse in context."""
        return Diagnostic(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=message,
            column=column,
            length=max(1, length),
            fix=fix if fix is not None else self.fix,
        )


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    column: int = 0
    length: int = 1
    fix: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "column": self.column,
            "fix": self.fix,
        }


_REGISTRY: dict[str, Rule] = {}


def register(
    code: str, name: str, severity: Severity, summary: str, fix: str, explanation: str = ""
) -> Rule:
    if code in _REGISTRY:
        raise ValueError(f"rule code {code} registered twice")
    if any(r.name == name for r in _REGISTRY.values()):
        raise ValueError(f"rule name {name} registered twice")
    rule = Rule(code, name, severity, summary, fix, explanation)
    _REGISTRY[code] = rule
    return rule


def all_rules() -> tuple[Rule, ...]:
    _load_rule_modules()
    return tuple(sorted(_REGISTRY.values(), key=lambda r: r.code))


def find_rule(code_or_name: str) -> Rule | None:
    _load_rule_modules()
    key = code_or_name.strip()
    for rule in _REGISTRY.values():
        if rule.code.lower() == key.lower() or rule.name == key.lower():
            return rule
    return None


def has_errors(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def _load_rule_modules() -> None:
    # Importing the theme modules registers their rules.
    from spfbuild.rules import dns, policy, ranges, size, syntax  # noqa: F401
