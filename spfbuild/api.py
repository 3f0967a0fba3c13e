"""The typed Python API: what the commands do, as functions that return values.

Every function here is synchronous; those that ask DNS have an `async` twin (`flatten_async`,
`check_async`, `evaluate_async`) for callers that run their own event loop. Nothing here prints
or exits. A domain that fails is reported in its own `DomainResult.error`, never by hiding the
other domains' results; errors raised to callers derive from `spfbuild.SPFBuildError`.

The DNS machinery (asyncio, dnspython, netaddr) is imported by the functions that need it, so
`import spfbuild` and the offline functions (`lint`, `load_config`, `render`) stay light.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from spfbuild.config import Config
from spfbuild.errors import ArgumentError
from spfbuild.limits import DEFAULT_TIMEOUT
from spfbuild.linting import LintResult, lint_record

if TYPE_CHECKING:
    from spfbuild.audit import Report
    from spfbuild.dns import Resolver
    from spfbuild.drift import DomainDrift
    from spfbuild.emit import RecordSet
    from spfbuild.evaluation import Evaluation

__all__ = [
    "CompanionRecord",
    "DomainResult",
    "Record",
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

@dataclass(frozen=True)
class Record:
    """One DNS record to publish: a TXT record's owner name, its text and its TTL."""

    name: str
    text: str
    ttl: int


@dataclass(frozen=True)
class CompanionRecord:
    """A DKIM or DMARC record published beside the SPF records: owner name, type (`CNAME` or
    `TXT`), value (the CNAME's target, absolute without the final dot, or the TXT text), TTL."""

    name: str
    type: str
    value: str
    ttl: int


@dataclass(frozen=True)
class DomainResult:
    """What `render` or `flatten` made of one domain: its records (and the DKIM and DMARC records
    beside them), or the one-line reason it failed."""

    domain: str
    records: tuple[Record, ...] = ()
    error: str | None = None
    companions: tuple[CompanionRecord, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def lint(text: str) -> LintResult:
    """Lint one SPF record offline, given bare (`v=spf1 ...`) or as pasted TXT strings (`"v=spf1 ..." "..."`)."""
    return lint_record(text)


def load_config(path: str | PathLike[str]) -> Config:
    """Read a senders file (one domain, or `defaults:` + `domains:`); raises `ConfigError` naming file:line:column."""
    from spfbuild.catalogue import load_catalogue
    from spfbuild.config import load_config as load

    return load(Path(path), load_catalogue())


def render(config: Config) -> list[DomainResult]:
    """Compose, de-duplicate and lint each domain's record offline, in the config's order."""
    from spfbuild.catalogue import load_catalogue
    from spfbuild.rendering import RenderError, render_domain

    catalogue = load_catalogue()
    results = []
    for spec in config.domains:
        try:
            rendered = render_domain(spec, catalogue)
        except RenderError as exc:
            results.append(DomainResult(spec.domain, error=str(exc)))
            continue
        results.append(_result(rendered.record_set))
    return results


def flatten(
    config: Config, *, nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT, jobs: int = 1
) -> list[DomainResult]:
    """Resolve each domain's senders and emit exact ip4/ip6 records within its lookup budget (self-checked).
    `jobs` other than 1 (0: one per core) shares the computing of many domains out among forked
    processes, as `spfbuild flatten --jobs` does (each question still asked once in the run)."""
    import asyncio

    return asyncio.run(flatten_async(config, nameservers=nameservers, timeout=timeout, jobs=jobs))


async def flatten_async(
    config: Config, *, nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT, jobs: int = 1
) -> list[DomainResult]:
    """`flatten`, for a running event loop."""
    from spfbuild.catalogue import load_catalogue
    from spfbuild.failure import DomainFailure
    from spfbuild.flattening import flatten_all

    resolver = _resolver(nameservers, timeout)
    catalogue = load_catalogue()
    done = await flatten_all(config.domains, catalogue, resolver, jobs=jobs)
    return [
        DomainResult(spec.domain, error=item.message) if isinstance(item, DomainFailure) else _result(item.record_set)
        for spec, item in zip(config.domains, done, strict=True)
    ]


def check(
    domains: Iterable[str], *, nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> list[Report]:
    """Audit the SPF records `domains` publish, over their whole include trees, one report per domain in order."""
    import asyncio

    return asyncio.run(check_async(domains, nameservers=nameservers, timeout=timeout))


async def check_async(
    domains: Iterable[str], *, nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> list[Report]:
    """`check`, for a running event loop."""
    from spfbuild.audit import ProviderIndex, audit_many
    from spfbuild.catalogue import load_catalogue

    resolver = _resolver(nameservers, timeout)
    providers = ProviderIndex(load_catalogue())
    return [report async for report in audit_many(list(domains), resolver, providers=providers)]


def diff(
    config: Config, *, nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> list[DomainDrift]:
    """Compare what each domain publishes with what `config` declares, by every address's result
    (and the declared DKIM and DMARC records): one `DomainDrift` per domain, in order, whose
    `status` is "in sync", "differs", "missing", "unreachable" or "error"."""
    import asyncio

    return asyncio.run(diff_async(config, nameservers=nameservers, timeout=timeout))


async def diff_async(
    config: Config, *, nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> list[DomainDrift]:
    """`diff`, for a running event loop."""
    from spfbuild.catalogue import load_catalogue
    from spfbuild.drift import diff_all

    resolver = _resolver(nameservers, timeout)
    return await diff_all(config.domains, load_catalogue(), resolver)


def evaluate(
    ip: str, sender: str, *, helo: str = "", nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> Evaluation:
    """RFC 7208 check_host() for a connecting `ip` and SMTP MAIL FROM `sender` ("" for a bounce, checked
    with `helo`), as a receiver would evaluate it."""
    import asyncio

    return asyncio.run(evaluate_async(ip, sender, helo=helo, nameservers=nameservers, timeout=timeout))


async def evaluate_async(
    ip: str, sender: str, *, helo: str = "", nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> Evaluation:
    """`evaluate`, for a running event loop."""
    from spfbuild.evaluation import check_host, sender_address, spf_identity

    try:
        address = sender_address(ip)
    except ValueError:
        raise ArgumentError(f"{ip!r} is not an IPv4 or IPv6 address") from None
    resolver = _resolver(nameservers, timeout)
    identity, domain = spf_identity(sender, helo)
    return await check_host(address, domain, identity, resolver, helo=helo)


def _resolver(nameservers: Sequence[str], timeout: float) -> Resolver:
    from spfbuild.dns import Resolver

    if not timeout > 0:
        raise ArgumentError(f"the timeout must be a positive number of seconds, not {timeout:g}")
    try:
        resolver = Resolver.within(nameservers, timeout)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    if not resolver.servers:
        raise ArgumentError("no DNS servers: /etc/resolv.conf lists none; pass nameservers=['HOST[:PORT]']")
    return resolver


def _result(record_set: RecordSet) -> DomainResult:
    records = tuple(Record(r.name, r.value, r.ttl) for r in record_set.records)
    companions = tuple(CompanionRecord(c.name, c.type, c.value, c.ttl) for c in record_set.companions)
    return DomainResult(record_set.domain, records, companions=companions)
