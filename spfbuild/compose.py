"""Domain specs + catalogue -> one merged, deduplicated SPF record (what `render` emits).

The declaration as written (:func:`declare`) is the existing record, with a provider the
config declares again replaced where it stands, then every sender's terms in the order the
config lists them, then `all` and the modifiers. Every rewrite :func:`compose` makes from it
keeps the result of check_host() identical for every address:
  * a repeated include/a/mx/ptr/exists is dead (the first copy already decided), so it goes;
  * ip4/ip6 ranges merge only where order cannot matter (:mod:`spfbuild.rangemerge`), and a
    range earlier ranges cover is never reached;
  * a provider region covered by another declared region (Mimecast global covers eu, ...)
    adds no address.
An existing record with a term that never takes effect (after `all`, or `redirect=` beside
`all`) is refused: whatever the merge did with it would change who may send.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Collection
from dataclasses import dataclass, replace

from spfbuild.catalogue import Catalogue
from spfbuild.config import DomainSpec, Sender
from spfbuild.errors import SPFBuildError
from spfbuild.linting import existing_problem, record_text
from spfbuild.provider import Provider
from spfbuild.rangemerge import merge_ranges
from spfbuild.record import IPNetwork, Mechanism, Modifier, Qualifier, Record, Term
from spfbuild.recordparse import parse


@dataclass(frozen=True)
class Source:
    """Where a term came from, for reports and JSON provenance."""

    label: str
    line: int | None = None
    provider: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"sender": self.label, "line": self.line, "provider": self.provider}


@dataclass(frozen=True)
class Composed:
    term: Term
    sources: tuple[Source, ...]
    lookups: int  # estimated DNS lookups this term costs (RFC 7208 counting)
    lookups_known: bool = True


@dataclass(frozen=True)
class Composition:
    domain: str
    terms: tuple[Composed, ...]
    warnings: tuple[str, ...] = ()  # what the merge kept of the existing record against the config

    @property
    def record(self) -> Record:
        return Record(tuple(c.term for c in self.terms))

    @property
    def lookups(self) -> int:
        return sum(c.lookups for c in self.terms)

    @property
    def lookups_known(self) -> bool:
        return all(c.lookups_known for c in self.terms)


class ComposeError(SPFBuildError):
    pass


EXISTING = Source("existing record")
# Lint findings on an existing record that mean one of its terms never takes effect.


def declare(spec: DomainSpec, catalogue: Catalogue, existing: str | None = None) -> Composition:
    """The declaration as written, catalogue expanded, before any merging or de-duplication: the
    existing record (a provider the config declares again replaced where it stands), the
    senders' terms in config order, `all`, the modifiers. The record `compose` emits must give
    every address the result this one gives (flatten's self-check compares against it)."""
    existing_text = existing if existing is not None else spec.existing
    base = _existing_terms(existing_text) if existing_text else ()
    new = [item for sender in spec.senders for item in _sender_terms(sender, catalogue, spec.domain)]
    mechanisms, all_term, modifiers = _split(base)
    mechanisms = _replace_provider_references(mechanisms, new, catalogue)
    declared = [*mechanisms, *(c for c in new if not _placed(c, mechanisms))]
    final_all, warnings = _final_all(spec, all_term, modifiers)
    terms = [*declared, *([final_all] if final_all else []), *modifiers]
    return Composition(spec.domain, tuple(_cost(c, catalogue) for c in terms), warnings)


def compose(spec: DomainSpec, catalogue: Catalogue, existing: str | None = None, *,
            declared: Composition | None = None) -> Composition:
    """Merge the declared senders into the existing record (if any) for `spec.domain`.
    `declared` is `declare(spec, catalogue, existing)` when the caller has it already (flatten's
    self-check compares with it), so that it is not built twice."""
    declared = declared if declared is not None else declare(spec, catalogue, existing)
    mechanisms = [c for c in declared.terms if isinstance(c.term, Mechanism) and c.term.kind != "all"]
    rest = declared.terms[len(mechanisms):]
    merged = _dedupe(_drop_covered_regions(mechanisms, spec.senders, catalogue))
    merged = merge_ranges(merged, lambda c: c.term, _range_item)
    costed = {id(c) for c in mechanisms}  # declare counted these: only merged items need counting
    return Composition(spec.domain, (*(c if id(c) in costed else _cost(c, catalogue) for c in merged), *rest),
                       declared.warnings)


def keep_reason(item: Composed, keep: Collection[str], catalogue: Catalogue) -> str | None:
    """Why flattening must leave this include as written, or None: `keep` (the config's
    `flatten.keep`) names its domain or its provider, or the provider's catalogue entry says so
    (it checks for its include by name, or its record uses macros)."""
    term = item.term
    if not isinstance(term, Mechanism) or term.kind != "include" or term.domain is None:
        return None
    if _norm(term.domain) in keep:
        return f"flatten.keep names {_norm(term.domain)}"
    for source in item.sources:
        if source.provider is None or source.provider not in catalogue:
            continue
        if source.provider in keep:
            return f"flatten.keep names {source.provider}"
        provider = catalogue.get(source.provider)
        if provider.keep:
            return f"{provider.name}: {provider.keep_reason}"
    return None


def keeps_literal(item: Composed, keep: Collection[str], catalogue: Catalogue) -> bool:
    """Whether the include must stay as written in the published record itself (not only be
    reached from it): the config's `flatten.keep` names it, or its provider checks for its
    include by name. A term kept for its macros only has to be evaluated where it stands."""
    term = item.term
    if not isinstance(term, Mechanism) or term.kind != "include" or term.domain is None:
        return False
    if _norm(term.domain) in keep:
        return True
    for source in item.sources:
        if source.provider is None or source.provider not in catalogue:
            continue
        if source.provider in keep or catalogue.get(source.provider).keep_literal:
            return True
    return False


def catalogue_lookups(domain: str, catalogue: Catalogue) -> int | None:
    """What an include of `domain` costs receivers, by the catalogue (the include and its own
    nested lookups), or None when no provider lists it: an estimate, never a measurement."""
    domain = _norm(domain)
    for provider in catalogue:
        if domain in _all_includes(provider):
            return provider.lookups_for(_region_of(provider, domain))
    return None


def _existing_terms(text: str) -> tuple[Composed, ...]:
    problem = existing_problem(text)
    if problem is not None:
        raise ComposeError(problem)
    parsed = parse(record_text(text))
    return tuple(Composed(t, (EXISTING,), 0) for t in parsed.record.terms)


def _sender_terms(sender: Sender, catalogue: Catalogue, domain: str) -> list[Composed]:
    line = sender.location.line if sender.location is not None else None
    if sender.kind == "provider":
        assert sender.value is not None
        provider = catalogue.get(sender.value)
        source = Source(sender.label, line, provider.id)
        terms = _provider_terms(provider, sender.region, sender.variant, sender.parameters, sender.qualifier)
        return [Composed(t, (source,), 0) for t in terms]
    source = Source(sender.label, line)
    if sender.kind in ("ip4", "ip6"):
        return [Composed(_ip_mechanism(n, sender.qualifier), (source,), 0) for n in sender.networks]
    # `a:<the domain itself>` is plain `a`: same meaning, fewer bytes.
    target = None if sender.value is not None and _norm(sender.value) == domain else sender.value
    mech = Mechanism(sender.kind, sender.qualifier, domain=target, prefix4=sender.prefix4, prefix6=sender.prefix6)
    return [Composed(mech, (source,), 0)]


@functools.lru_cache(maxsize=4096)
def _provider_terms(provider: Provider, region: str | None, variant: str | None,
                    parameters: tuple[tuple[str, str], ...], qualifier: Qualifier) -> tuple[Term, ...]:
    """A provider sender's terms, once per run for every domain that declares it alike: the
    same term objects, so what they compute of themselves (networks, text) is computed once."""
    includes = provider.include_for(region, variant, dict(parameters))
    terms: list[Term] = [Mechanism(provider.mechanism, qualifier, domain=d) for d in includes]
    terms += [_ip_mechanism(ipaddress.ip_network(n), qualifier) for n in (*provider.ip4, *provider.ip6)]
    return tuple(terms)


def _ip_mechanism(network: IPNetwork, qualifier: Qualifier) -> Mechanism:
    full = network.prefixlen == network.max_prefixlen
    prefix = None if full else network.prefixlen
    if network.version == 4:
        return Mechanism("ip4", qualifier, address=network.network_address, prefix4=prefix)
    return Mechanism("ip6", qualifier, address=network.network_address, prefix6=prefix)


def _drop_covered_regions(new: list[Composed], senders: tuple[Sender, ...], catalogue: Catalogue) -> list[Composed]:
    """A declared region that another declared region of the same provider covers adds nothing."""
    covered: set[str] = set()
    for sender in senders:
        if sender.kind != "provider" or sender.value is None:
            continue
        provider = catalogue.get(sender.value)
        for region in provider.covered_regions(sender.region):
            covered.update(_region_includes(provider, region))
    return [c for c in new if not (_include_domain(c.term) in covered and c.sources[0].provider)]


def _region_includes(provider: Provider, region: str) -> set[str]:
    found = {dict(provider.regions).get(region)}
    found |= {dict(pairs).get(region) for _, pairs in provider.variants}
    return {_norm(d) for d in found if d}


def _split(terms: tuple[Composed, ...]) -> tuple[list[Composed], Composed | None, list[Composed]]:
    """Mechanisms before `all`, the `all`, the modifiers (nothing follows `all`: refused before)."""
    mechanisms = [c for c in terms if isinstance(c.term, Mechanism) and c.term.kind != "all"]
    alls = [c for c in terms if isinstance(c.term, Mechanism) and c.term.kind == "all"]
    modifiers = [c for c in terms if isinstance(c.term, Modifier)]
    return mechanisms, (alls[0] if alls else None), modifiers


def _replace_provider_references(existing: list[Composed], new: list[Composed],
                                 catalogue: Catalogue) -> list[Composed]:
    """An existing reference to a provider the config declares (another region, an older
    include) is replaced in place, so the provider is referenced exactly once."""
    out: list[Composed] = []
    placed: set[int] = set()
    for item in existing:
        owner = _owner(_include_domain(item.term), catalogue)
        replacement = [i for i, c in enumerate(new) if owner and c.sources[0].provider == owner.id]
        if owner is None or not replacement or _disjoint_region(item, [new[i] for i in replacement], owner):
            out.append(item)
            continue
        for i in replacement:
            if i not in placed:
                placed.add(i)
                out.append(new[i])
    return out


def _placed(item: Composed, mechanisms: list[Composed]) -> bool:
    return any(item is m for m in mechanisms)


def _disjoint_region(item: Composed, new: list[Composed], provider: Provider) -> bool:
    """usb/uspcom stand apart from Mimecast global: an existing one stays beside a new global."""
    old = _region_of(provider, _include_domain(item.term))
    if old is None:
        return False
    for composed in new:
        region = _region_of(provider, _include_domain(composed.term))
        if region is None or region == old:
            return False
        if old in provider.covered_regions(region) or region in provider.covered_regions(old):
            return False
    return True


def _region_of(provider: Provider, domain: str | None) -> str | None:
    if domain is None:
        return None
    tables = [dict(provider.regions), *(dict(p) for _, p in provider.variants)]
    for table in tables:
        for region, include in table.items():
            if _norm(include) == domain:
                return region
    return None


def _owner(domain: str | None, catalogue: Catalogue) -> Provider | None:
    """The catalogue provider an include belongs to: one of its includes, or a name under the
    same parent domain as them (an older netblocks name)."""
    if domain is None:
        return None
    for provider in catalogue:
        for include in _all_includes(provider):
            if include == domain or domain.endswith("." + _parent(include)):
                return provider
    return None


def _all_includes(provider: Provider) -> set[str]:
    found = {provider.include} if provider.include else set()
    found |= {d for _, d in provider.regions}
    found |= {d for _, pairs in provider.variants for _, d in pairs}
    return {_norm(d) for d in found if d}


def _parent(domain: str) -> str:
    labels = domain.split(".")
    # Under a country's second level (zoho.com.au) the owner is three labels, not "com.au".
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return ".".join(labels[-keep:])


def _include_domain(term: Term) -> str | None:
    if isinstance(term, Mechanism) and term.kind == "include" and term.domain:
        return _norm(term.domain)
    return None


def _norm(domain: str) -> str:
    return domain.lower().rstrip(".")


def _dedupe(items: list[Composed]) -> list[Composed]:
    """Keep the first of repeated DNS mechanisms (any qualifier: the repeat can never match
    where the first did not); merge their sources."""
    out: list[Composed] = []
    index: dict[tuple[object, ...], int] = {}
    for item in items:
        term = item.term
        assert isinstance(term, Mechanism)
        if term.kind in ("ip4", "ip6"):
            out.append(item)
            continue
        key = (term.kind, _norm(term.domain) if term.domain else None, term.prefix4, term.prefix6)
        if key in index:
            first = out[index[key]]
            out[index[key]] = replace(first, sources=first.sources + tuple(
                s for s in item.sources if s not in first.sources))
            continue
        index[key] = len(out)
        out.append(item)
    return out


def _range_item(network: IPNetwork, qualifier: Qualifier, covered: list[Composed]) -> Composed:
    sources = tuple(dict.fromkeys(s for c in covered for s in c.sources))
    return Composed(_ip_mechanism(network, qualifier), sources, 0)


def _final_all(spec: DomainSpec, existing_all: Composed | None,
               modifiers: list[Composed]) -> tuple[Composed | None, tuple[str, ...]]:
    """The record's `all` and what to tell about it. The existing record's qualifier stays unless
    the domain's own entry sets `policy` (one inherited from `defaults:` keeps it and says so);
    a record that ends in `redirect=` gets no `all`, which would disable the redirect."""
    policy = spec.policy
    redirect = next((c for c in modifiers if isinstance(c.term, Modifier) and c.term.name == "redirect"), None)
    if policy is None:
        return existing_all, ()
    wanted = Mechanism("all", policy)
    if existing_all is None and redirect is not None:
        if spec.policy_inherited:
            return None, ()
        return None, (f"policy {policy.result} is not applied: the existing record ends in {redirect.term}, which "
                      f"decides for every address no term matches ({wanted} would disable it)",)
    if existing_all is not None and existing_all.term != wanted and spec.policy_inherited:
        return existing_all, (f"the existing record's {existing_all.term} is kept; policy {policy.result} from "
                              f"defaults: would make it {wanted} (set policy: on the domain to change it)",)
    sources = existing_all.sources if existing_all and existing_all.term == wanted else ()
    return Composed(wanted, sources or (Source("policy"),), 0), ()


def _cost(item: Composed, catalogue: Catalogue) -> Composed:
    term = item.term
    if not term.queries_dns:
        return _counted(item, 0)
    domain = _include_domain(term)
    if domain is not None:
        declared = next((s.provider for s in item.sources if s.provider), None)
        if declared is not None and declared in catalogue:  # an account-specific include is not listed as such
            provider = catalogue.get(declared)
            return _counted(item, provider.lookups_for(_region_of(provider, domain)))
        known = catalogue_lookups(domain, catalogue)
        return _counted(item, known) if known is not None else _counted(item, 1, known=False)
    if isinstance(term, Modifier):  # redirect: its target's cost is unknown offline
        return _counted(item, 1, known=False)
    return _counted(item, 1)


def _counted(item: Composed, lookups: int, known: bool | None = None) -> Composed:
    """`item` with its count (what `dataclasses.replace` gives, without its introspection: this
    runs for every term of every domain)."""
    return Composed(item.term, item.sources, lookups, item.lookups_known if known is None else known)

