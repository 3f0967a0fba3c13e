"""A name's organisational (registered) domain: the public suffix plus one label, by the Public
Suffix List (RFC 7489 section 3.2). The list is the snapshot the `publicsuffixlist` package
ships; it is read from that file, never fetched, so every command stays offline. A name under a
suffix the list does not know (`.test`, `.example`) falls to the list's default rule: its last
label is the suffix."""

from __future__ import annotations

from functools import cache

from publicsuffixlist import PublicSuffixList

__all__ = ["organisational_domain"]


@cache
def _list() -> PublicSuffixList:
    # Parsing the bundled list takes a few milliseconds: once per process, and only when asked.
    return PublicSuffixList()


def organisational_domain(name: str) -> str:
    """`mail.example.co.uk` -> `example.co.uk`; a public suffix itself (`co.uk`) is its own."""
    name = name.lower().rstrip(".")
    return _list().privatesuffix(name) or name
