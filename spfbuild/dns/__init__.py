"""An asynchronous DNS client for SPF work, on dnspython.

    values       Answer, Outcome, MX, QueryRecord, Server: what DNS work produces
    nameservers  `--nameserver HOST[:PORT]` strings, the system's resolvers
    transport    one exchange with one server: UDP, then TCP if truncated
    response     a response as the interpreter reads it, whichever reader made it
    wire         the reader of plain UDP answers, straight from the octets (bulk checks)
    message      dnspython's reading of everything else, TCP included
    interpret    what one response says about one question (the only interpreter)
    resolver     Resolver: the cache, shared in-flight questions, CNAMEs across answers,
                 retries over the servers, and the record of every exchange

The value types load without dnspython, so the evaluator and the include tree can name them
while the offline commands stay free of the DNS stack; `Resolver`, `parse_nameserver` and
`system_nameservers` load it on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from spfbuild.dns.values import DEFAULT_PORT, MX, TEMPORARY, Answer, Outcome, QueryRecord, RData, Server, normalize

if TYPE_CHECKING:
    from spfbuild.dns.nameservers import parse_nameserver, system_nameservers
    from spfbuild.dns.resolver import Resolver

__all__ = [
    "DEFAULT_PORT",
    "MX",
    "TEMPORARY",
    "Answer",
    "Outcome",
    "QueryRecord",
    "RData",
    "Resolver",
    "Server",
    "normalize",
    "parse_nameserver",
    "system_nameservers",
]

_LOADED_ON_USE = {
    "Resolver": "spfbuild.dns.resolver",
    "parse_nameserver": "spfbuild.dns.nameservers",
    "system_nameservers": "spfbuild.dns.nameservers",
}

if not TYPE_CHECKING:  # mypy reads the imports above; at run time the names load here

    def __getattr__(name: str) -> object:
        module = _LOADED_ON_USE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)
