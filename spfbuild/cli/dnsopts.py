"""The DNS options every DNS-using command shares: `--nameserver` (repeatable) and `--timeout`.

    from spfbuild.cli.dnsopts import NameserverOption, TimeoutOption, make_resolver

    @app.command()
    def check(..., nameserver: NameserverOption = None, timeout: TimeoutOption = DEFAULT_TIMEOUT):
        resolver = make_resolver(nameserver, timeout)  # usage error (exit 2) on a bad value
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.common import EXIT_USAGE, fail

if TYPE_CHECKING:
    from spfbuild.dns import Resolver

DEFAULT_TIMEOUT = 5.0
# Each server is asked up to twice (one retry for a lost UDP datagram) within --timeout.
ATTEMPTS = 2

NameserverOption = Annotated[
    list[str] | None,
    typer.Option(
        "--nameserver",
        metavar="HOST[:PORT]",
        help="Ask this DNS server (repeatable; IPv6 as [::1]:5353). Default: the system resolvers.",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Give up on a DNS question after this many seconds per server (the result is then temperror).",
    ),
]


def make_resolver(nameservers: list[str] | None, timeout: float) -> Resolver:
    """The resolver for the options given; a bad value is a one-line usage error (exit 2)."""
    from spfbuild.dns import Resolver

    if not timeout > 0:
        fail(f"--timeout must be a positive number of seconds, not {timeout:g}", EXIT_USAGE)
    try:
        resolver = Resolver(nameservers or (), timeout=timeout / ATTEMPTS, retries=ATTEMPTS - 1)
    except ValueError as exc:
        fail(f"--nameserver: {exc}", EXIT_USAGE)
    if not resolver.servers:
        fail("no DNS servers: /etc/resolv.conf lists none; give --nameserver HOST[:PORT]", EXIT_USAGE)
    return resolver
