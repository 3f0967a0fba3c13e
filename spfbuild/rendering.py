"""`render`: compose a domain's record offline, lint it, check the lookup budget."""

from __future__ import annotations

from dataclasses import dataclass, replace

from spfbuild.alignment import Advice, advise
from spfbuild.catalogue import Catalogue
from spfbuild.companions import Companion, CompanionError, companions_for
from spfbuild.compose import ComposeError, Composition, compose, keep_reason
from spfbuild.config import DomainSpec
from spfbuild.diagnostics import Diagnostic
from spfbuild.emit import RecordSet, TxtRecord
from spfbuild.errors import SPFBuildError
from spfbuild.idn import both, to_unicode
from spfbuild.linting import LintResult, lint_value
from spfbuild.record import Mechanism
from spfbuild.rules.registry import NON_PUBLIC_RANGE


class RenderError(SPFBuildError):
    """The domain cannot be rendered; the message names the domain."""


@dataclass(frozen=True)
class Rendered:
    spec: DomainSpec
    composition: Composition
    diagnostics: tuple[Diagnostic, ...]
    notes: tuple[str, ...] = ()  # why includes are kept as written
    warnings: tuple[str, ...] = ()  # what the merge kept of the existing record; senders placed where they do nothing
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
            # Offline, an include's cost is the catalogue's figure at best: exact only without includes.
            "lookups_exact": comp.record.redirect is None
            and not any(m.kind == "include" for m in comp.record.mechanisms),
            "max_lookups": self.spec.flatten.max_lookups,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "terms": [
                {"term": str(c.term), "lookups": c.lookups, "sources": [s.to_dict() for s in c.sources],
                 **({"kept": dict(self.kept)[i]} if i in dict(self.kept) else {})}
                for i, c in enumerate(comp.terms)
            ],
        }
        if both(self.spec.domain) != self.spec.domain:
            extra["domain_unicode"] = to_unicode(self.spec.domain)
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
        raise RenderError(f"{both(spec.domain)}: {exc}") from None
    result = lint_value(str(composition.record))
    if spec.example_ranges:
        result = replace(result, diagnostics=tuple(d for d in result.diagnostics if not _example(d, result, spec)))
    errors = [d for d in result.diagnostics if d.is_error]
    if errors:
        first = errors[0]
        raise RenderError(
            f"{both(spec.domain)}: the rendered record fails {first.code} [{first.name}]: {first.message}")
    budget = spec.flatten.max_lookups
    if composition.lookups > budget:
        at_least = "" if composition.lookups_known else "at least "
        raise RenderError(
            f"{both(spec.domain)}: the record needs {at_least}{composition.lookups} DNS lookups, over the budget of "
            f"{budget}; run `spfbuild flatten` to fit it"
        )
    kept = tuple((i, why) for i, c in enumerate(composition.terms) if (why := keep_reason(c, (), catalogue)))
    notes = tuple(f"{composition.record.terms[i]} is kept as written when flattening: {why}" for i, why in kept)
    companions, advice = companion_parts(spec, catalogue)
    warnings = (*composition.warnings, *placement_warnings(spec, catalogue), *advice.warnings)
    return Rendered(spec, composition, result.diagnostics, notes, warnings, kept, companions, advice.notes)


def _example(diag: Diagnostic, result: LintResult, spec: DomainSpec) -> bool:
    """A non-public range inside the ranges the config marks as examples (`example_ranges`)."""
    if diag.code != NON_PUBLIC_RANGE.code:
        return False
    for term, span in zip(result.parsed.record.terms, result.parsed.spans, strict=True):
        network = term.network if isinstance(term, Mechanism) else None
        if span.column == diag.column and network is not None:
            return any(network.version == e.version and network.subnet_of(e)  # type: ignore[arg-type]
                       for e in spec.example_ranges)
    return False


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
