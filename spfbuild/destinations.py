"""Where a cron run publishes each domain: an RFC 2136 primary, a TSIG key and the zone, the
zone found by asking that server for the domain's SOA when neither the config nor `--push`
names it.

Each (server, name) is asked once per run; servers are asked concurrently. A server that does
not answer the first question is not asked the others: every domain on it fails at once with
that one message, instead of a timeout per domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from spfbuild.config import Config
from spfbuild.failure import Kind
from spfbuild.pushserver import (
    PublishError,
    PushServer,
    PushTarget,
    TsigKey,
    find_zone,
    load_tsig_key,
    parse_push_server,
)

# Questions in flight per server: enough for hundreds of domains at a real network's latency.
CONCURRENCY = 8


@dataclass(frozen=True)
class Destination:
    """A domain's publishing target as declared (the config's `publish:` or `--push`)."""

    server: PushServer
    key: TsigKey
    zone: str | None = None  # None: the owner of the SOA the server answers for the domain


@dataclass(frozen=True)
class Placed:
    """A domain's publishing target with its zone known: domains of one zone share one UPDATE."""

    target: PushTarget
    key: TsigKey


def declared(cfg: Config, push: str | None, key_file: Path | None) -> tuple[dict[str, Destination], list[str]]:
    """Each published domain's destination: `push` and `key_file` (the command line) for every
    domain, or else the domain's `publish:`; and the key files' warnings, once per file. A bad
    `push` or an unreadable key file is a PublishError naming the option or the config's line."""
    keys: dict[Path, TsigKey] = {}
    warnings: list[str] = []

    def key(path: Path, where: str) -> TsigKey:
        if path not in keys:
            try:
                keys[path], found = load_tsig_key(path)
            except PublishError as exc:
                raise PublishError(f"{where}{exc}", Kind.DATA) from None
            warnings.extend(found)
        return keys[path]

    if push is not None and key_file is not None:
        try:
            server, zone = parse_push_server(push)
        except PublishError as exc:
            raise PublishError(f"--push: {exc}", Kind.DATA) from None
        everywhere = Destination(server, key(key_file, ""), zone)
        return dict.fromkeys((spec.domain for spec in cfg.domains), everywhere), warnings
    destinations = {}
    for spec in cfg.domains:
        if spec.publish is not None:
            where = f"{spec.publish.location}: publish.tsig_key: " if spec.publish.location else ""
            destinations[spec.domain] = Destination(PushServer(spec.publish.host, spec.publish.port),
                                                    key(spec.publish.tsig_key, where), spec.publish.zone)
    return destinations, warnings


def place(destinations: Mapping[str, Destination], timeout: float) -> dict[str, Placed | PublishError]:
    """Each domain's zone: as declared, or found by asking its server."""
    placed: dict[str, Placed | PublishError] = {}
    unknown: dict[PushServer, list[str]] = {}
    for domain, destination in destinations.items():
        if destination.zone is not None:
            placed[domain] = Placed(destination.server.at(destination.zone), destination.key)
        else:
            unknown.setdefault(destination.server, []).append(domain)
    if unknown:
        with ThreadPoolExecutor(max_workers=min(len(unknown), CONCURRENCY)) as pool:
            found = dict(zip(unknown, pool.map(lambda s: _zones_on(s, unknown[s], timeout), unknown), strict=True))
        for server, zones in found.items():
            for domain in unknown[server]:
                zone = zones[domain]
                placed[domain] = zone if isinstance(zone, PublishError) else Placed(
                    server.at(zone), destinations[domain].key)
    return placed


def _zones_on(server: PushServer, names: list[str], timeout: float) -> dict[str, str | PublishError]:
    unique = list(dict.fromkeys(names))
    first = _zone_of(server, unique[0], timeout)
    if isinstance(first, PublishError) and first.kind is Kind.DNS:  # the server is down: ask no more
        return dict.fromkeys(unique, first)
    rest = unique[1:]
    with ThreadPoolExecutor(max_workers=max(1, min(len(rest), CONCURRENCY))) as pool:
        answers = list(pool.map(lambda name: _zone_of(server, name, timeout), rest))
    return {unique[0]: first, **dict(zip(rest, answers, strict=True))}


def _zone_of(server: PushServer, name: str, timeout: float) -> str | PublishError:
    try:
        return find_zone(server, name, timeout)
    except PublishError as exc:
        return exc
