"""Text shown to people (messages on stderr, reports on stdout): a value from a config, the
command line or DNS is quoted in it as it is, except what does not print (line breaks, tabs,
terminal escapes, invisible and unassigned characters, octets that were not UTF-8), which is
written escaped: it can neither break the line nor drive the terminal, and an invisible
character in a value is seen."""

from __future__ import annotations


def shown(text: str) -> str:
    """`text` as one line for people: each character that does not print written as Python
    writes it (`\\n`, `\\x1b`, `\\u200b`)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def shown_lines(text: str) -> str:
    """`text` of several lines, each line `shown`."""
    return "\n".join(shown(line) for line in text.split("\n"))
