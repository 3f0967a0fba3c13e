"""`render`: compose a domain's record offline, lint it, check the lookup budget."""

from __future__ import annotations

from dataclasses import dataclass

from spfbuild.catalogue import Catalogue
from spfbuild.compose import ComposeError, Composition, compose
from spfbuild.config import DomainSpec
from spfbuild.diagnostics import Diagnostic
from spfbuild.emit import RecordSet, TxtRecord
from spfbuild.errors import SPFBuildError
from spfbuild.linting import lint_value


class RenderError(SPFBuildError):
    """The domain cannot be rendered; the message names the domain."""


@dataclass(frozen=True)
class Rendered:
    spec: DomainSpec
    composition: Composition
    diagnostics: tuple[Diagnostic, ...]

    @property
    def value(self) -> str:
        return str(self.composition.record)

    @property
    def record_set(self) -> RecordSet:
        comp = self.composition
        extra: dict[str, object] = {
            "lookups": comp.lookups,
            "lookups_exact": comp.lookups_known,
            "max_lookups": self.spec.flatten.max_lookups,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "terms": [
                {"term": str(c.term), "lookups": c.lookups, "sources": [s.to_dict() for s in c.sources]}
                for c in comp.terms
            ],
        }
        main = TxtRecord(self.spec.domain, self.value, self.spec.ttl)
        return RecordSet(self.spec.domain, (main,), extra)


def render_domain(spec: DomainSpec, catalogue: Catalogue, existing: str | None = None) -> Rendered:
    try:
        composition = compose(spec, catalogue, existing)
    except ComposeError as exc:
        raise RenderError(f"{spec.domain}: {exc}") from None
    result = lint_value(str(composition.record))
    errors = [d for d in result.diagnostics if d.is_error]
    if errors:
        first = errors[0]
        raise RenderError(f"{spec.domain}: the rendered record fails {first.code} [{first.name}]: {first.message}")
    budget = spec.flatten.max_lookups
    if composition.lookups > budget:
        at_least = "" if composition.lookups_known else "at least "
        raise RenderError(
            f"{spec.domain}: the record needs {at_least}{composition.lookups} DNS lookups, over the budget of "
            f"{budget}; run `spfbuild flatten` to fit it"
        )
    return Rendered(spec, composition, result.diagnostics)
