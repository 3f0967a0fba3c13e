"""The options several commands share, each defined once: the config argument, `--format`,
`--output`, `--providers`, and the DNS options `--nameserver` (repeatable) and `--timeout`.

    @app.command()
    def flatten(config: ConfigArgument, fmt: FormatOption = Format.txt, ...,
                nameserver: NameserverOption = None, timeout: TimeoutOption = DEFAULT_TIMEOUT):
        resolver = make_resolver(nameserver, timeout)  # a bad server is a usage error (exit 64)
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.app import BadValue
from spfbuild.cli.common import EXIT_USAGE, fail
from spfbuild.limits import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spfbuild.dns import Resolver


class Format(StrEnum):
    txt = "txt"
    zone = "zone"
    json = "json"
    octodns = "octodns"


def _format(text: str) -> Format:
    try:
        return Format(text)
    except ValueError:
        raise BadValue(f"must be one of {', '.join(Format)} (got {text!r})") from None


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise BadValue(f"must be a number of seconds, not {text!r}") from None
    if not 0 < seconds < float("inf"):  # also refuses nan: a question must end
        raise BadValue(f"must be a positive number of seconds, not {seconds:g}")
    return seconds


ConfigArgument = Annotated[
    Path, typer.Argument(metavar="CONFIG", help="senders.yaml: the domain(s) and who sends mail for them.")
]
FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", "-F", parser=_format, metavar="|".join(Format),
        help="txt (DNS console value), zone, json or octodns.",
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to FILE atomically (a directory for octodns with several domains)."),
]
ProvidersOption = Annotated[
    Path | None,
    typer.Option(
        "--providers", metavar="DIR",
        help="A directory of your own provider files, added to (or overriding) the shipped ones.",
    ),
]
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
        parser=_seconds,
        help="Give up on a DNS question after this many seconds per server (the result is then temperror).",
    ),
]


def make_resolver(nameservers: Sequence[str] | None, timeout: float) -> Resolver:
    """The resolver for `--nameserver` and `--timeout`; a bad server is a one-line usage error."""
    from spfbuild.dns import Resolver

    try:
        resolver = Resolver.within(nameservers or (), timeout)
    except ValueError as exc:
        fail(f"--nameserver: {exc}", EXIT_USAGE)
    if not resolver.servers:
        fail("no DNS servers: /etc/resolv.conf lists none; give --nameserver HOST[:PORT]", EXIT_USAGE)
    return resolver
