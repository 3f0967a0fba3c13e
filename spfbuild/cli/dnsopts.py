"""The DNS options every DNS-using command shares: `--nameserver` (repeatable) and `--timeout`.

    from spfbuild.cli.dnsopts import NameserverOption, TimeoutOption, make_resolver

    @app.command()
    def check(..., nameserver: NameserverOption = None, timeout: TimeoutOption = DEFAULT_TIMEOUT):
        resolver = make_resolver(nameserver, timeout)  # usage error (exit 2) on a bad value
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.fast import CommandExit
from spfbuild.cli.resolving import resolver_for
from spfbuild.limits import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from spfbuild.dns import Resolver

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
    try:
        return resolver_for(nameservers, timeout)
    except CommandExit as done:
        raise typer.Exit(done.code) from None
