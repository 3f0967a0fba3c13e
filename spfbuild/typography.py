"""Typographic look-alikes: characters that word processors and chat tools put where SPF
needs plain ASCII (`–all`, curly quotes, non-breaking spaces, zero-width spaces)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lookalike:
    description: str
    meant: str  # how the ASCII character is named in messages
    replacement: str  # ASCII text to put instead ("" for invisible characters)


def _table() -> dict[str, Lookalike]:
    table: dict[str, Lookalike] = {}

    def add(chars: str, description: str, meant: str, replacement: str) -> None:
        for ch in chars:
            table[ch] = Lookalike(description, meant, replacement)

    add("\u2013", "en dash", "'-'", "-")
    add("\u2014", "em dash", "'-'", "-")
    add("\u2010\u2011\u2012\u2015", "typographic dash", "'-'", "-")
    add("\u2212", "minus sign", "'-'", "-")
    add("\ufe63\uff0d", "full-width hyphen", "'-'", "-")
    add("\u02dc\u223c\uff5e", "tilde look-alike", "'~'", "~")
    add("\uff0b", "full-width plus", "'+'", "+")
    add("\uff1f", "full-width question mark", "'?'", "?")
    add("\u2018\u2019\u201a\u201b\u2032", "curly single quote", "\"'\"", "'")
    add("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", "curly double quote", "'\"'", '"')
    add("\u00a0", "non-breaking space", "a plain space", " ")
    add("\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000",
        "typographic space", "a plain space", " ")
    add("\u200b\u200c\u200d\u2060\ufeff", "zero-width character", "nothing", "")
    add("\uff1a", "full-width colon", "':'", ":")
    add("\uff1d", "full-width equals sign", "'='", "=")
    add("\uff0f", "full-width slash", "'/'", "/")
    add("\uff0e\u3002", "full-width full stop", "'.'", ".")
    return table


LOOKALIKES = _table()


def find_lookalikes(text: str) -> dict[int, Lookalike]:
    """Offsets of look-alike characters in `text`, with what each stands for."""
    if text.isascii():
        return {}
    return {i: LOOKALIKES[ch] for i, ch in enumerate(text) if ch in LOOKALIKES}


def fix_lookalikes(text: str) -> tuple[str, list[int]]:
    """The ASCII text, and for each of its characters the offset it came from in `text`."""
    found = find_lookalikes(text)
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        replacement = found[i].replacement if i in found else ch
        out.append(replacement)
        origin.extend([i] * len(replacement))
    origin.append(len(text))
    return "".join(out), origin
