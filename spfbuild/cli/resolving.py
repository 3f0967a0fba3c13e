"""The resolver the DNS options ask for, without typer: shared by the typer commands and the fast path."""

from __future__ import annotations

from spfbuild.cli.fast import EXIT_USAGE, fail

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from spfbuild.dns import Resolver

# Each server is asked up to twice (one retry for a lost UDP datagram) within --timeout.
ATTEMPTS = 2


def resolver_for(nameservers: Sequence[str] | None, timeout: float) -> Resolver:
    """The resolver for `--nameserver` and `--timeout`; a bad value is a one-line usage error
    (`CommandExit` with status 2)."""
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
