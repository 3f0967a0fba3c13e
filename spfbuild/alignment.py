"""DMARC alignment advice (RFC 7489 section 3.1): DMARC passes only when SPF passes for an
envelope-from in the From domain's organisation, or DKIM passes with a signature by it. The
catalogue says, per provider, whether its envelope-from can be the customer's domain (custom
return-path) and whether it signs DKIM with the customer's domain; from that, which senders can
never pass through SPF, and which would fail a quarantine or reject policy as declared."""

from __future__ import annotations

from dataclasses import dataclass

from spfbuild.catalogue import Catalogue
from spfbuild.config.model import DomainSpec, Sender
from spfbuild.dkim import dkim_name
from spfbuild.provider import Provider

__all__ = ["Advice", "advise"]


@dataclass(frozen=True)
class Advice:
    notes: tuple[str, ...]  # one per sender that cannot pass DMARC through SPF
    warnings: tuple[str, ...]  # senders an enforcing policy would quarantine or reject


def advise(spec: DomainSpec, catalogue: Catalogue) -> Advice:
    if spec.mail_from:
        return Advice((), ())  # a return-path domain is never a From domain
    strict_spf = spec.dmarc is not None and spec.dmarc.aspf == "s"
    notes: list[str] = []
    unaligned: list[str] = []
    for sender in spec.senders:
        if sender.kind != "provider" or sender.value is None:
            continue
        provider = catalogue.get(sender.value)
        spf_aligns = _spf_aligns(provider, strict_spf)
        if not spf_aligns:
            notes.append(f"provider {provider.id}: {_spf_note(provider, spec.domain, strict_spf)}")
        if not spf_aligns and sender.dkim is None:
            unaligned.append(_label(sender, provider))
    warnings: list[str] = []
    if spec.dmarc is not None and spec.dmarc.enforcing and unaligned:
        policy = spec.dmarc.strictest
        warnings.append(
            f"dmarc p={spec.dmarc.policy}"
            + (f" sp={spec.dmarc.subdomain_policy}" if spec.dmarc.subdomain_policy else "")
            + f": {', '.join(unaligned)} {'has' if len(unaligned) == 1 else 'have'} neither aligned SPF nor DKIM "
            f"declared, so receivers will {policy} {'its' if len(unaligned) == 1 else 'their'} mail; declare "
            "`dkim:` for each (or publish p=none until reports show them passing)")
    return Advice(tuple(notes), tuple(warnings))


def _spf_aligns(provider: Provider, strict: bool) -> bool:
    """Whether the provider's envelope-from can be in the customer's domain: a custom
    return-path; under strict SPF alignment (aspf=s), not when it is a subdomain of its own."""
    if not provider.custom_return_path:
        return False
    return not (strict and provider.placement == "mail-from")


def _spf_note(provider: Provider, domain: str, strict: bool) -> str:
    if provider.custom_return_path:  # aligns only relaxed, through its return-path subdomain
        return (f"SPF never aligns under aspf=s: its return-path is a subdomain "
                f"({provider.mail_from_subdomain}.{domain}); DMARC passes only through DKIM, or with aspf=r")
    if provider.dkim.signs_with_customer_domain is False:
        return (f"SPF never aligns: its return-path is its own domain, and it does not sign DKIM with yours; "
                f"its mail cannot pass DMARC for {domain}")
    selectors = provider.dkim.selectors
    publish = (f"publish {' and '.join(dkim_name(s, '').rstrip('.') for s in selectors)}" if selectors
               else f"publish the DKIM records {provider.name} shows")
    return (f"SPF never aligns: its return-path is its own domain; DMARC passes only through DKIM: {publish} and "
            f"authenticate the domain in {provider.name}")


def _label(sender: Sender, provider: Provider) -> str:
    return f"provider {provider.id}"
