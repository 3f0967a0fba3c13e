"""What `check` asks beside a domain's SPF record: its DMARC record at `_dmarc.<domain>` (linted
by the DMARC1xx rules), the authorisation records of report destinations outside the domain's
organisation (RFC 7489 section 7.1), and the DKIM selectors of the providers its SPF tree
includes. The questions go out concurrently with the SPF walk: DMARC's with the domain's own
TXT question, the DKIM selectors of the providers the domain's record includes as soon as that
record is in (beside the questions for the levels below it), and only those of providers met
deeper in the tree after the walk; each is asked once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spfbuild.dkim import dkim_name
from spfbuild.dmarc import dmarc_name, external_destinations, is_dmarc_record, report_authorisation_name
from spfbuild.mechanisms import DNSResolver
from spfbuild.rules import dmarc_rules as r
from spfbuild.rules.dmarc import lint_dmarc
from spfbuild.rules.dns import Finding
from spfbuild.taglist import parse_tags
from spfbuild.tree import Node, Tree

if TYPE_CHECKING:
    from spfbuild.dns import Answer
    from spfbuild.tree import Walker

__all__ = ["DkimCheck", "DmarcCheck", "check_dkim", "check_dmarc", "early_dkim", "selectors_in"]


@dataclass(frozen=True)
class DmarcCheck:
    name: str
    record: str | None
    findings: tuple[Finding, ...]
    destinations: tuple[tuple[str, bool | None], ...] = ()  # (destination, authorised; None: not known)

    @property
    def policy(self) -> str | None:
        tag = parse_tags(self.record).first("p") if self.record else None
        return tag.value if tag is not None else None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "record": self.record, "policy": self.policy,
            "report_destinations": [{"domain": d, "authorised": ok} for d, ok in self.destinations],
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class DkimCheck:
    provider: str
    selector: str
    name: str
    status: str  # "ok" (a key), "revoked" (p= empty), "missing", "not-a-key", "temperror"
    finding: Finding | None = None

    def to_dict(self) -> dict[str, object]:
        return {"provider": self.provider, "selector": self.selector, "name": self.name, "status": self.status}


async def check_dmarc(domain: str, resolver: DNSResolver) -> DmarcCheck:
    name = dmarc_name(domain)
    answer = await resolver.query(name, "TXT")
    if answer.is_temperror:
        return DmarcCheck(name, None, (Finding(r.DMARC_DNS_ERROR(f"{name}: {answer.detail or answer.outcome.value}"),
                                               (), name),))
    records = [str(text) for text in answer.records if is_dmarc_record(str(text))] if answer.ok else []
    if not records:
        return DmarcCheck(name, None, (Finding(r.DMARC_MISSING(f"{domain} publishes no DMARC record at {name}"),
                                               (), name),))
    if len(records) > 1:
        return DmarcCheck(name, None, (Finding(r.DMARC_MULTIPLE(
            f"{name} holds {len(records)} DMARC records; receivers apply none"), (), name),))
    record = records[0]
    found = [Finding(d, (), name) for d in lint_dmarc(record).diagnostics]
    uris = tuple(uri for tag in parse_tags(record).tags if tag.name in ("rua", "ruf") for uri in tag.value.split(","))
    destinations = external_destinations(domain, uris)
    answers = await asyncio.gather(*(resolver.query(report_authorisation_name(domain, d), "TXT")
                                     for d in destinations))
    checked: list[tuple[str, bool | None]] = []
    for destination, auth in zip(destinations, answers, strict=True):
        if auth.is_temperror:
            checked.append((destination, None))
            continue
        ok = auth.ok and any(is_dmarc_record(str(text)) for text in auth.records)
        checked.append((destination, ok))
        if not ok:
            found.append(Finding(r.DMARC_UNAUTHORISED_DESTINATION(
                f"reports for {domain} go to {destination}, which does not authorise them: it must publish "
                f"{report_authorisation_name(domain, destination)} TXT \"v=DMARC1\""), (), name))
    return DmarcCheck(name, record, tuple(found), tuple(checked))


def selectors_in(tree: Tree, providers: object) -> tuple[tuple[str, str], ...]:
    """(provider name, selector) for each provider the SPF tree includes whose DKIM selectors
    are the same for every customer."""
    entry_of = getattr(providers, "entry", None)
    if entry_of is None:
        return ()
    found: list[tuple[str, str]] = []
    for node in _nodes(tree.root):
        provider = entry_of(node.domain)
        if provider is None or provider.dkim.signs_with_customer_domain is False:
            continue
        for selector in provider.dkim.selectors:
            if (provider.name, selector) not in found:
                found.append((provider.name, selector))
    return tuple(found)


async def early_dkim(domain: str, walker: Walker, providers: object) -> dict[str, Answer]:
    """The DKIM answers of the providers `domain`'s own record includes (by selector name),
    asked once that record is fetched, while the walk goes on below it."""
    entry_of = getattr(providers, "entry", None)
    if entry_of is None:
        return {}
    root = await walker.record(domain)
    names: list[str] = []
    for owner in (domain, *(t.followed for t in root.targets if t.followed is not None)):
        provider = entry_of(owner)
        if provider is not None and provider.dkim.signs_with_customer_domain is not False:
            names += [dkim_name(selector, domain) for selector in provider.dkim.selectors]
    names = list(dict.fromkeys(names))
    answers = await asyncio.gather(*(walker.resolver.query(name, "TXT") for name in names))
    return dict(zip(names, answers, strict=True))


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _nodes(child)


async def check_dkim(domain: str, selectors: tuple[tuple[str, str], ...], resolver: DNSResolver,
                     known: Mapping[str, Answer] | None = None) -> tuple[DkimCheck, ...]:
    """Each selector's key record; `known` holds answers asked already (`early_dkim`)."""
    names = [dkim_name(selector, domain) for _, selector in selectors]
    known = known or {}
    asked = [name for name in names if name not in known]
    fresh = dict(zip(asked, await asyncio.gather(*(resolver.query(name, "TXT") for name in asked)), strict=True))
    answers = [known[name] if name in known else fresh[name] for name in names]
    checks = []
    for (provider, selector), name, answer in zip(selectors, names, answers, strict=True):
        if answer.is_temperror:
            checks.append(DkimCheck(provider, selector, name, "temperror"))
            continue
        texts = [str(text) for text in answer.records] if answer.ok else []
        keys = [parse_tags(text).first("p") for text in texts]
        if not texts:
            status = "missing"
        elif any(key is not None and key.value for key in keys):
            status = "ok"
        elif any(key is not None for key in keys):
            status = "revoked"
        else:
            status = "not-a-key"
        finding = None
        if status != "ok":
            what = {"missing": "does not resolve", "revoked": "holds a revoked key (p= empty)",
                    "not-a-key": "holds no DKIM key (no p= tag)"}[status]
            finding = Finding(r.DKIM_SELECTOR_MISSING(
                f"{provider} signs with selector {selector}, but {name} {what}; its mail passes DMARC only "
                "through SPF alignment"), (), name)
        checks.append(DkimCheck(provider, selector, name, status, finding))
    return tuple(checks)
