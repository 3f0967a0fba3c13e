"""One domain's failure as a value: its one-line message and its kind, so that a multi-domain
run reports it beside the other domains' records and a command can choose its exit status
(a problem in the data, or a DNS or network failure that another run may not meet)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# How flatten's messages name a DNS failure (see spfbuild.partition.record_problem).
TEMPERROR_PREFIX = "temperror:"


class Kind(StrEnum):
    DATA = "data"  # the config, a provider's record or the limits: running again gives the same
    DNS = "dns"  # a DNS or network failure (temperror, timeout, unreachable or refusing server)


@dataclass(frozen=True)
class DomainFailure:
    domain: str
    message: str  # one line, starting with the domain
    kind: Kind = Kind.DATA

    def __str__(self) -> str:
        return self.message

    @property
    def is_dns(self) -> bool:
        return self.kind is Kind.DNS


def failure(domain: str, message: str, kind: Kind | None = None) -> DomainFailure:
    """A failure naming `domain` first; without `kind`, a temperror message is a DNS failure."""
    text = message if message.startswith(f"{domain}:") else f"{domain}: {message}"
    if kind is None:
        kind = Kind.DNS if message.removeprefix(f"{domain}: ").startswith(TEMPERROR_PREFIX) else Kind.DATA
    return DomainFailure(domain, text, kind)


def only_dns(failures: Iterable[DomainFailure]) -> bool:
    """True when there are failures and every one is a DNS failure."""
    kinds = {f.kind for f in failures}
    return kinds == {Kind.DNS}
