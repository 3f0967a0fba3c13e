"""The records published beside a domain's SPF record: its DKIM records (per sender, from the
catalogue and the sender's `dkim:` entry) and its DMARC record (`dmarc:`), each with where it
came from. One name holds one CNAME and nothing else (RFC 1034 section 3.6.2), so records that
would share a name with a CNAME are refused here, before any format is written."""

from __future__ import annotations

from dataclasses import dataclass, field

from spfbuild.catalogue import Catalogue
from spfbuild.config.model import DomainSpec, Sender
from spfbuild.dkim import DkimError, dkim_name, records_for
from spfbuild.dmarc import dmarc_name
from spfbuild.errors import SPFBuildError
from spfbuild.txt import rdata_size, split_strings

__all__ = ["Companion", "CompanionError", "companions_for"]


class CompanionError(SPFBuildError):
    """A domain's DKIM or DMARC records cannot be built; the message names the domain."""


@dataclass(frozen=True)
class Companion:
    name: str  # absolute, without the trailing dot
    type: str  # "CNAME" or "TXT"
    value: str  # the CNAME target (absolute, no trailing dot) or the TXT text
    ttl: int
    provenance: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # JSON's "provenance"

    @property
    def strings(self) -> tuple[str, ...]:
        """A TXT value as <=255-byte character-strings (a DKIM key is longer than one)."""
        return split_strings(self.value) if self.type == "TXT" else ()

    @property
    def size(self) -> int:
        return rdata_size(self.strings) if self.type == "TXT" else len(self.value) + 2

    def to_dict(self) -> dict[str, object]:
        shape: dict[str, object] = {"name": self.name, "type": self.type, "value": self.value, "ttl": self.ttl}
        if self.type == "TXT":
            shape["strings"] = list(self.strings)
        shape["provenance"] = dict(self.provenance)
        return shape


def companions_for(spec: DomainSpec, catalogue: Catalogue) -> tuple[Companion, ...]:
    """Every DKIM record the domain's senders ask for, then its DMARC record."""
    found: list[Companion] = []
    for sender in spec.senders:
        if sender.dkim is not None:
            found += _dkim(spec, sender, catalogue)
    if spec.dmarc is not None:
        where = (("config", str(spec.dmarc_location)),) if spec.dmarc_location else ()
        found.append(Companion(dmarc_name(spec.domain), "TXT", spec.dmarc.text, spec.ttl,
                               (*where, ("rfc", "RFC 7489 section 6.1: the policy record at _dmarc"))))
    _refuse_clashes(spec.domain, found)
    return tuple(found)


def _dkim(spec: DomainSpec, sender: Sender, catalogue: Catalogue) -> list[Companion]:
    assert sender.dkim is not None
    provider = catalogue.get(sender.value) if sender.kind == "provider" and sender.value else None
    try:
        records = records_for(spec.domain, provider, sender.dkim)
    except DkimError as exc:
        where = f" ({sender.dkim.location})" if sender.dkim.location else ""
        raise CompanionError(f"{spec.domain}: {sender.label}{where}: {exc}") from None
    provenance: list[tuple[str, str]] = [("sender", sender.label)]
    if sender.dkim.location is not None:
        provenance.append(("config", str(sender.dkim.location)))
    if provider is not None:
        given = "the sender's dkim: entry" if sender.dkim.key or sender.dkim.targets else "the catalogue"
        origin = provider.origin.name if provider.origin else provider.id
        provenance.append(("source", f"{given}; provider file {origin}"))
        sources = [s.url for s in provider.sources if "dkim" in s.facts]
        if sources and given == "the catalogue":
            provenance.append(("documentation", " ".join(sources)))
    return [Companion(dkim_name(r.selector, spec.domain), r.type, r.value, spec.ttl, tuple(provenance))
            for r in records]


def _refuse_clashes(domain: str, records: list[Companion]) -> None:
    by_name: dict[str, Companion] = {}
    for record in records:
        other = by_name.get(record.name)
        if other is not None:
            kind = "a CNAME must be the only record at its name" if "CNAME" in (record.type, other.type) else \
                "two senders publish a key under the same selector"
            first = dict(other.provenance).get("sender", "dmarc")
            second = dict(record.provenance).get("sender", "dmarc")
            raise CompanionError(f"{domain}: {record.name}: {first} and {second} both need this name; {kind}")
        by_name[record.name] = record
