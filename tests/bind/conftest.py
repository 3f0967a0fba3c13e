"""Fixtures that run a real BIND 9 ``named`` on loopback.

* ``named``         (session) serves every zone file in ``tests/bind/zones/``;
                    do not modify or stop it: use ``named_factory`` for that.
* ``named_factory`` (function) starts fresh servers with your own zones;
                    every server it started is closed after the test.

When ``named`` is missing, tests that need it are skipped, except under CI
(``CI=true``), where that is a failure: CI must install the ``bind9`` package.
Every test under ``tests/bind`` carries the ``bind`` marker
(``pytest -m "not bind"`` runs the rest). The server itself is
``tests/support/named.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest
from support.named import FIXTURE_ZONES, NamedFactory, NamedServer, find_named

_HERE = Path(__file__).parent.resolve()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bind: runs against a real BIND 9 named on 127.0.0.1 (tests/bind)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.bind)


def require_named() -> str:
    """Path of ``named``; otherwise skip the test, or fail it under CI."""
    named = find_named()
    if named is not None:
        return named
    message = (
        "BIND 9 'named' was not found (looked at $SPFBUILD_NAMED, PATH, /usr/sbin); "
        "install the Debian package 'bind9' (it also brings bind9-utils: rndc, tsig-keygen)."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def named() -> Iterator[NamedServer]:
    """A started server with every zone in ``tests/dns/zones/`` (read-only use)."""
    binary = require_named()
    with NamedServer(FIXTURE_ZONES, named_binary=binary) as server:
        yield server


@pytest.fixture
def named_factory() -> Iterator[NamedFactory]:
    """``named_factory(zones, updatable=())`` -> a started, private NamedServer.

    *zones* maps origin -> zone text (or is a directory of ``<origin>.zone``
    files); zones in *updatable* accept updates signed with ``server.tsig_key``.
    """
    binary = require_named()
    servers: list[NamedServer] = []

    def make(
        zones: Mapping[str, str] | Path | str, updatable: Iterable[str] = (), **kwargs: object
    ) -> NamedServer:
        server = NamedServer(zones, updatable=updatable, named_binary=binary, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.close()
