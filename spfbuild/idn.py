"""Internationalised domain names (IDNA 2008, by the `idna` library): configs and the command
line may name domains in Unicode (bücher.example); DNS, records and outputs use their A-labels
(xn--bcher-kva.example), and messages show both.

Names are mapped as UTS #46 asks (lower case, width and compatibility forms), then each label
that is not ASCII becomes its A-label; ASCII labels stay as they are, so `_spf` and other
underscore labels of SPF and DKIM names pass through.
"""

from __future__ import annotations

from spfbuild.errors import SPFBuildError


class IDNError(SPFBuildError, ValueError):
    """A name that is not a valid internationalised domain name; the message says which label."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"'{name}' is not a valid internationalised domain name: {reason}")
        self.reason = reason


def to_ascii(name: str) -> str:
    """The A-label form of `name` (ASCII names are returned unchanged)."""
    if name.isascii():
        return name
    import idna  # only for a name that needs it

    try:
        mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
    except idna.IDNAError:
        raise IDNError(name, "IDNA 2008 does not allow it") from None
    labels = []
    for label in mapped.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(idna.alabel(label).decode("ascii"))
        except idna.IDNAError:
            raise IDNError(name, f"label '{label}' is not allowed by IDNA 2008") from None
    return ".".join(labels)


def to_unicode(name: str) -> str:
    """The Unicode form of `name`, for people; `name` itself when no label is an A-label (or one
    does not decode)."""
    if "xn--" not in name.lower():
        return name
    import idna

    labels = []
    for label in name.split("."):
        try:
            labels.append(idna.ulabel(label) if label.lower().startswith("xn--") else label)
        except idna.IDNAError:
            return name
    return ".".join(labels)


def both(name: str) -> str:
    """How messages name a domain: `xn--bcher-kva.example (bücher.example)`, or just the name."""
    shown = to_unicode(name)
    return name if shown == name else f"{name} ({shown})"
