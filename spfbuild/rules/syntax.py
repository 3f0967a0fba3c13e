"""Syntax rules (SPF1xx): the record does not follow the RFC 7208 ABNF.

The parser (`spfbuild.recordparse`) raises these for the record text itself, as it reads it. This
module checks what surrounds a pasted record: the quotes of its TXT strings.
"""

from __future__ import annotations

from spfbuild.diagnostics import Diagnostic
from spfbuild.rules.registry import TYPOGRAPHIC
from spfbuild.txt import unquote_strings
from spfbuild.typography import find_lookalikes, fix_lookalikes


def check_quoting(text: str) -> tuple[list[Diagnostic], tuple[str, ...] | None]:
    """The TXT strings of quoted input (None for a bare record), and a finding for each curly
    quote around them: such quotes are reported, then read as the '"' they stand for."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "\"\u201c\u201d\u201e":
        return [], None
    fixed, _ = fix_lookalikes(stripped)
    strings = unquote_strings(fixed)
    if strings is None:
        return [], None
    found = [
        TYPOGRAPHIC(
            f"{look.description} (U+{ord(stripped[i]):04X}) around the TXT string where '\"' is meant",
            fix=fixed,
        )
        for i, look in find_lookalikes(stripped).items()
        if look.replacement == '"'
    ]
    return found, strings
