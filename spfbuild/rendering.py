"""`render`: compose a domain's record offline, lint it, check the lookup budget."""

from __future__ import annotations

from dataclasses import dataclass

from spfbuild.alignment import Advice, advise
from spfbuild.catalogue import Catalogue
from spfbuild.companions import Companion, CompanionError, companions_for
from spfbuild.compose import ComposeError, Composition, compose, keep_reason
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
    notes: tuple[str, ...] = ()  # why includes are kept as written
    warnings: tuple[str, ...] = ()  # senders declared where they have no effect (placement)
    kept: tuple[tuple[int, str], ...] = ()  # (term index, why flatten keeps it as written)
    companions: tuple[Companion, ...] = ()  # the DKIM and DMARC records beside the SPF record
    alignment: tuple[str, ...] = ()  # senders that cannot pass DMARC through SPF (alignment advice)

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
                {"term": str(c.term), "lookups": c.lookups, "sources": [s.to_dict() for s in c.sources],
                 **({"kept": dict(self.kept)[i]} if i in dict(self.kept) else {})}
                for i, c in enumerate(comp.terms)
            ],
        }
        if self.notes:
            extra["notes"] = list(self.notes)
        if self.warnings:
            extra["warnings"] = list(self.warnings)
        if self.alignment:
            extra["alignment"] = list(self.alignment)
        main = TxtRecord(self.spec.domain, self.value, self.spec.ttl)
        return RecordSet(self.spec.domain, (main,), extra, companions=self.companions)


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
    kept = tuple((i, why) for i, c in enumerate(composition.terms) if (why := keep_reason(c, (), catalogue)))
    notes = tuple(f"{composition.record.terms[i]} is kept as written when flattening: {why}" for i, why in kept)
    companions, advice = companion_parts(spec, catalogue)
    return Rendered(spec, composition, result.diagnostics, notes,
                    placement_warnings(spec, catalogue) + advice.warnings, kept, companions, advice.notes)


def companion_parts(spec: DomainSpec, catalogue: Catalogue) -> tuple[tuple[Companion, ...], Advice]:
    """The DKIM and DMARC records beside the SPF record, and the alignment advice about them
    (render and flatten both publish them)."""
    try:
        companions = companions_for(spec, catalogue)
    except CompanionError as exc:
        raise RenderError(str(exc)) from None
    return companions, advise(spec, catalogue)


def placement_warnings(spec: DomainSpec, catalogue: Catalogue) -> tuple[str, ...]:
    """A provider whose include belongs on the return-path (MAIL FROM) subdomain, declared on a
    domain that is not one: receivers check SPF on the envelope sender, so the include does
    nothing here. A domain marked `mail_from: true`, or named with the label the provider's
    documentation uses, is taken to be that subdomain."""
    found = []
    for sender in spec.senders:
        if sender.kind != "provider" or sender.value is None:
            continue
        provider = catalogue.get(sender.value)
        label = provider.mail_from_subdomain
        if provider.placement != "mail-from" or spec.mail_from or label is None:
            continue
        if spec.domain.split(".", 1)[0] == label:
            continue
        found.append(
            f"provider {provider.id}: {provider.name} checks SPF on the return-path (MAIL FROM) subdomain, such as "
            f"{label}.{spec.domain}, not on {spec.domain}; declare it under that domain "
            "with `mail_from: true`")
    return tuple(found)
