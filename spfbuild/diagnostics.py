"""Severities, rules and the diagnostics they produce: values only.

A leaf module (it imports no other spfbuild module), so that the record parser, every check and
`spfbuild rules` can share these types without loading one another. The rules themselves are
declared in `spfbuild.rules.registry`, in the manner of ruff: a stable code, a kebab-case name,
a severity, a one-line summary, a fix hint and an explanation. Codes never change meaning once
released; retired rules keep their code reserved.
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


@dataclass(frozen=True, kw_only=True)
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

    def to_dict(self) -> dict[str, str]:
        """The JSON shape of `spfbuild rules --json`."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "summary": self.summary,
            "fix": self.fix,
            "explanation": self.explanation,
        }


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


def has_errors(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)
