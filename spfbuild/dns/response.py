"""A response as the interpreter reads it, whichever reader made it.

`Response` keeps only what `interpret` needs to answer one question: the response code, the
answer section's records of the asked type, its CNAMEs, and which types the authority section
holds. Two readers make it: `wire.read` from the octets of a plain UDP answer, and
`message.from_message` from anything dnspython parses; tests hold them to the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spfbuild.dns.values import RData

Labels = tuple[bytes, ...]  # a name's labels as DNS carries them, without the root


@dataclass(frozen=True)
class Response:
    rcode: int  # the whole response code, EDNS bits included
    # Class IN records of the asked type in the answer section, by owner (lower-cased labels).
    records: dict[Labels, tuple[RData, ...]] = field(default_factory=dict)
    # Class IN CNAMEs in the answer section: owner (lower-cased) -> target (labels as sent).
    aliases: dict[Labels, Labels] = field(default_factory=dict)
    authority: frozenset[int] = frozenset()  # the record types in the authority section


def lower(labels: Labels) -> Labels:
    """Labels as DNS compares names: ASCII letters without case."""
    return tuple(label.lower() for label in labels)


def labels_text(labels: Labels) -> str:
    """A name as plain text, labels verbatim (no DNS escapes), no trailing dot; "." for the root."""
    return ".".join(label.decode("utf-8", "surrogateescape") for label in labels) or "."
