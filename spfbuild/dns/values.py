"""What DNS work produces: answers as values, one record per exchange, the servers asked.

Every answer is a value, never an exception: SPF evaluation must tell NXDOMAIN from NODATA
(void lookups) and failures from absence (temperror). Nothing here imports dnspython, so the
evaluator and the tree can name these types without loading the DNS stack.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

DEFAULT_PORT = 53


class Outcome(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"  # NOERROR without an answer of the asked type
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"  # any other failure: FORMERR, network errors, names DNS cannot carry


TEMPORARY = frozenset({Outcome.SERVFAIL, Outcome.REFUSED, Outcome.TIMEOUT, Outcome.ERROR})


class MX(NamedTuple):
    preference: int
    exchange: str  # without the trailing dot; "." for the null MX (RFC 7505)


class Text(str):
    """A TXT record as SPF reads it: its character-strings joined without spaces (RFC 7208
    section 3.3), remembering the byte size of each string as published, which `check` reports
    (a long record's split is the publisher's, not a rule of ours)."""

    sizes: tuple[int, ...]

    def __new__(cls, strings: tuple[bytes, ...] | list[bytes]) -> Text:
        # Undecodable octets survive as surrogates, so sizes and text never disagree.
        text = super().__new__(cls, b"".join(strings).decode("utf-8", "surrogateescape"))
        text.sizes = tuple(len(string) for string in strings)
        return text


def string_sizes(text: str) -> tuple[int, ...] | None:
    """The byte sizes of the strings `text` was published in, when it came from DNS."""
    return text.sizes if isinstance(text, Text) else None


RData = str | MX


@dataclass(frozen=True)
class Answer:
    """The outcome of one question. `records` holds, by type: TXT the strings of each RR
    joined without spaces (a `Text`, when it came from DNS); A/AAAA addresses; MX
    `MX(preference, exchange)`; PTR names."""

    name: str  # lower case, no trailing dot
    rdtype: str
    outcome: Outcome
    records: tuple[RData, ...] = ()
    server: str | None = None  # HOST:PORT that gave the answer (or the last one tried)
    seconds: float = 0.0
    detail: str | None = None  # why, for `error` outcomes

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def is_void(self) -> bool:
        """NXDOMAIN or NODATA: what RFC 7208 section 4.6.4 calls a void lookup."""
        return self.outcome in (Outcome.NXDOMAIN, Outcome.NODATA)

    @property
    def is_temperror(self) -> bool:
        """A failure SPF maps to temperror (RFC 7208 section 2.6.6): not an answer at all."""
        return self.outcome in TEMPORARY

    @functools.cached_property  # cached: evaluators read the same answers per address
    def strings(self) -> tuple[str, ...]:
        """TXT strings, addresses or PTR names (MX records are skipped)."""
        return tuple(r for r in self.records if isinstance(r, str))

    @functools.cached_property
    def exchanges(self) -> tuple[MX, ...]:
        return tuple(r for r in self.records if isinstance(r, MX))

    @property
    def message(self) -> str:
        """One line for people, e.g. "SERVFAIL from 127.0.0.1:5353 for _spf.example.com TXT"."""
        where = f" from {self.server}" if self.server else ""
        question = f"{self.name} {self.rdtype}"
        if self.outcome is Outcome.OK:
            count = len(self.records)
            return f"{count} {self.rdtype} record{'' if count == 1 else 's'}{where} for {self.name}"
        if self.outcome is Outcome.TIMEOUT:
            return f"timeout: no answer{where} for {question}"
        if self.outcome is Outcome.ERROR:
            return f"error{where} for {question}: {self.detail or 'unknown error'}"
        return f"{self.outcome.value.upper()}{where} for {question}"


@dataclass(frozen=True)
class QueryRecord:
    """One exchange with one server. `transport` is "udp", or "tcp" when a truncated UDP
    answer was asked again over TCP."""

    name: str
    rdtype: str
    outcome: Outcome
    server: str
    seconds: float
    transport: str


@dataclass(frozen=True)
class Server:
    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def normalize(name: str) -> str:
    """The cache key form of a name: lower case, without the trailing dot."""
    return name.lower().removesuffix(".")
