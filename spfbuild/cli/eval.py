"""`spfbuild eval`: what a receiver's SPF check gives for a connecting IP and a MAIL FROM."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from spfbuild.cli.app import app
from spfbuild.cli.common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, fail
from spfbuild.cli.options import DEFAULT_TIMEOUT, NameserverOption, TimeoutOption, make_resolver
from spfbuild.limits import MAX_LOOKUPS, MAX_VOID_LOOKUPS
from spfbuild.printable import shown

if TYPE_CHECKING:
    from spfbuild.evaluation import Evaluation


@app.command("eval")
def eval_command(
    ip: Annotated[str | None, typer.Option("--ip", help="The connecting client's IP address.")] = None,
    sender: Annotated[
        str | None,
        typer.Option("--sender", metavar="MAILFROM", help='The SMTP MAIL FROM address ("" for a bounce).'),
    ] = None,
    helo: Annotated[str, typer.Option("--helo", help="The SMTP HELO/EHLO name.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    trace: Annotated[bool, typer.Option("--trace", help="Show each record fetched and term tried.")] = False,
    expect: Annotated[
        str | None,
        typer.Option("--expect", metavar="RESULT", help="Exit 1 unless the result is RESULT (for monitoring).",
                     show_default=False),
    ] = None,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Evaluate SPF (RFC 7208 check_host) for --ip and --sender, as a receiver would.

    The first line printed starts with the result: pass, fail, softfail, neutral, none, permerror or temperror.

    Exit status: 0 whenever a result was produced (any of the seven); with --expect, 1 when the result
    differs; 64 usage error.
    """
    import asyncio

    from spfbuild.evaluation import RESULTS, check_host, sender_address, spf_identity
    from spfbuild.idn import IDNError, to_ascii

    if expect is not None and expect.lower() not in RESULTS:
        fail(f"--expect must be one of {', '.join(RESULTS)} (got {expect!r})", EXIT_USAGE)

    if ip is None:
        fail("--ip is required (the connecting client's address)", EXIT_USAGE)
    if sender is None:
        fail('--sender is required (the MAIL FROM address; --sender "" for a bounce)', EXIT_USAGE)
    try:
        address = sender_address(ip)
    except ValueError:
        fail(f"--ip: {ip!r} is not an IPv4 or IPv6 address", EXIT_USAGE)
    resolver = make_resolver(nameserver, timeout)
    identity, domain = spf_identity(sender, helo)
    try:  # an internationalised domain is asked by its A-labels (IDNA 2008)
        domain = to_ascii(domain)
    except IDNError as exc:
        fail(f"--sender: {exc}", EXIT_USAGE)
    identity = f"{identity.rpartition('@')[0]}@{domain}"
    evaluation = asyncio.run(check_host(address, domain, identity, resolver, helo=helo))
    if as_json:
        from spfbuild import jsontext

        print(jsontext.dumps(_as_dict(evaluation, identity, str(address), helo, trace)))
    else:
        print(shown(summary_line(evaluation)))  # names and records from DNS may hold controls
        if evaluation.explanation is not None:
            print(shown(f"explanation: {evaluation.explanation}"))
        if trace:
            for event in evaluation.trace:
                print(shown(f"  {event}"))
            print(f"  lookups: {evaluation.lookups}/{MAX_LOOKUPS}, "
                  f"void lookups: {evaluation.void_lookups}/{MAX_VOID_LOOKUPS}")
    if expect is not None and evaluation.result != expect.lower():
        fail(f"expected {expect.lower()}, got {evaluation.result}", EXIT_ERROR)
    raise typer.Exit(EXIT_OK)


def summary_line(evaluation: Evaluation) -> str:
    """`pass (matched ip4:192.0.2.0/24 in example.com; 3 lookups)`, and the like."""
    lookups = f"{evaluation.lookups} lookup{'' if evaluation.lookups == 1 else 's'}"
    if evaluation.matched:
        # Innermost first: what matched, then the include/redirect path that led to it.
        steps = [str(step) for step in reversed(evaluation.matched)]
        return f"{evaluation.result} (matched {' via '.join(steps)}; {lookups})"
    if evaluation.problem is not None:
        return f"{evaluation.result} ({evaluation.problem}; {lookups})"
    return f"{evaluation.result} (no mechanism matched in {evaluation.domain}; {lookups})"


def _as_dict(evaluation: Evaluation, sender: str, ip: str, helo: str, trace: bool) -> dict[str, object]:
    out: dict[str, object] = {
        "result": evaluation.result,
        "explanation": evaluation.explanation,
        "lookups": evaluation.lookups,
        "void_lookups": evaluation.void_lookups,
        "domain": evaluation.domain,
        "sender": sender,
        "ip": ip,
        "helo": helo,
        "problem": evaluation.problem,
        "matched": [{"domain": step.domain, "term": step.term} for step in evaluation.matched],
    }
    if trace:
        out["trace"] = [
            {"depth": e.depth, "domain": e.domain, "kind": e.kind, "text": e.text, "lookups": e.lookups}
            for e in evaluation.trace
        ]
    return out
