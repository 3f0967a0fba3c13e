"""spfbuild: build, flatten, validate and publish SPF (RFC 7208) records.

The Python API (see the README):

    import spfbuild

    config = spfbuild.load_config("senders.yaml")
    for result in spfbuild.render(config):
        print(result.domain, result.error or [r.text for r in result.records])

Names are loaded on first use (PEP 562), so that `import spfbuild`, and the command line that
imports it, load only what they use.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing

__version__ = "0.1.0"

# Each public name and the module that defines it.
_EXPORTS = {
    "lint": "spfbuild.api",
    "load_config": "spfbuild.api",
    "render": "spfbuild.api",
    "flatten": "spfbuild.api",
    "flatten_async": "spfbuild.api",
    "check": "spfbuild.api",
    "check_async": "spfbuild.api",
    "diff": "spfbuild.api",
    "diff_async": "spfbuild.api",
    "DomainDrift": "spfbuild.drift",
    "evaluate": "spfbuild.api",
    "evaluate_async": "spfbuild.api",
    "DomainResult": "spfbuild.api",
    "CompanionRecord": "spfbuild.api",
    "Record": "spfbuild.api",
    "LintResult": "spfbuild.linting",
    "Diagnostic": "spfbuild.diagnostics",
    "Severity": "spfbuild.diagnostics",
    "Config": "spfbuild.config",
    "DomainSpec": "spfbuild.config",
    "Sender": "spfbuild.config",
    "FlattenSettings": "spfbuild.config",
    "Qualifier": "spfbuild.record",
    "CheckReport": "spfbuild.audit",
    "Evaluation": "spfbuild.evaluation",
    "SPFBuildError": "spfbuild.errors",
    "ArgumentError": "spfbuild.errors",
    "ConfigError": "spfbuild.config",
    "CatalogueError": "spfbuild.provider",
    "RenderError": "spfbuild.rendering",
    "FlattenError": "spfbuild.partition",
}
_ALIASES = {"CheckReport": "Report"}

__all__ = [
    "ArgumentError",
    "CatalogueError",
    "CheckReport",
    "CompanionRecord",
    "Config",
    "ConfigError",
    "Diagnostic",
    "DomainDrift",
    "DomainResult",
    "DomainSpec",
    "Evaluation",
    "FlattenError",
    "FlattenSettings",
    "LintResult",
    "Qualifier",
    "Record",
    "RenderError",
    "SPFBuildError",
    "Sender",
    "Severity",
    "__version__",
    "check",
    "check_async",
    "diff",
    "diff_async",
    "evaluate",
    "evaluate_async",
    "flatten",
    "flatten_async",
    "lint",
    "load_config",
    "render",
]

if TYPE_CHECKING:
    from spfbuild.api import (
        CompanionRecord,
        DomainResult,
        Record,
        check,
        check_async,
        diff,
        diff_async,
        evaluate,
        evaluate_async,
        flatten,
        flatten_async,
        lint,
        load_config,
        render,
    )
    from spfbuild.audit import Report as CheckReport
    from spfbuild.config import Config, ConfigError, DomainSpec, FlattenSettings, Sender
    from spfbuild.diagnostics import Diagnostic, Severity
    from spfbuild.drift import DomainDrift
    from spfbuild.errors import ArgumentError, SPFBuildError
    from spfbuild.evaluation import Evaluation
    from spfbuild.linting import LintResult
    from spfbuild.partition import FlattenError
    from spfbuild.provider import CatalogueError
    from spfbuild.record import Qualifier
    from spfbuild.rendering import RenderError


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'spfbuild' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _ALIASES.get(name, name))
    globals()[name] = value  # the next access is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
