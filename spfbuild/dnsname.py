"""What DNS can carry as a name (RFC 1035 sections 2.3.4 and 3.1; RFC 7208 section 4.3): labels
of 1 to 63 octets and at most 253 octets in all, written without the root's trailing dot. The
one judgement of it, for configs, records, the evaluator and the resolver; and the top label an
SPF domain name ends with (RFC 7208 section 7.1).

Octets are counted as DNS carries them: UTF-8, and an octet read from DNS that was not UTF-8
(Python's surrogate escape) as itself.
"""

from __future__ import annotations

import re

from spfbuild.limits import MAX_DOMAIN_NAME, MAX_LABEL

# RFC 7208 section 7.1: toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
_TOPLABEL = re.compile(r"(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])")


def name_problem(name: str) -> str | None:
    """Why DNS cannot carry `name` (no trailing dot), or None."""
    if name.isascii() and 0 < len(name) <= MAX_DOMAIN_NAME:
        # Characters are octets: the common case, and asked for every name an evaluation reads.
        labels = name.split(".")
        if "" not in labels and max(map(len, labels)) <= MAX_LABEL:
            return None
    return _problem(name)


def _problem(name: str) -> str | None:
    if not name:
        return "empty name"
    for label in name.split("."):
        octets = len(label.encode("utf-8", "surrogateescape"))
        if octets == 0:
            return "empty label"
        if octets > MAX_LABEL:
            return f"label '{label}' is {octets} octets long; DNS allows {MAX_LABEL}"
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_DOMAIN_NAME:
        return f"the name is {size} octets long; DNS allows {MAX_DOMAIN_NAME}"
    return None


def name_labels(name: str) -> tuple[bytes, ...] | str:
    """The labels of `name` as a question carries them (no escape processing: SPF names are
    literal), or why DNS cannot carry it."""
    problem = name_problem(name)
    if problem is not None:
        return f"{name!r}: {problem}"
    return tuple(label.encode("utf-8", "surrogateescape") for label in name.split("."))


def is_toplabel(label: str) -> bool:
    """Whether `label` may end an SPF domain name (RFC 7208 section 7.1): letters, digits and
    inner hyphens, not digits alone."""
    return _TOPLABEL.fullmatch(label) is not None
