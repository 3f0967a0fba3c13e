"""Tag=value lists, the syntax DKIM key records (RFC 6376 section 3.2) and DMARC records
(RFC 7489 section 6.4, which takes it from DKIM) share: `tag=value` parts separated by `;`,
white space around them ignored, a trailing `;` allowed.

A leaf module: it reads the syntax only; what each tag means is for `dkim` and `dmarc`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Tag", "TagList", "parse_tags"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# VALCHAR is %x21-3A / %x3C-7E: printable ASCII but ';'; runs of them may be separated by spaces.
_VALUE = re.compile(r"(?:[\x21-\x3a\x3c-\x7e]+(?:[ \t\r\n]+[\x21-\x3a\x3c-\x7e]+)*)?")


@dataclass(frozen=True)
class Tag:
    name: str
    value: str
    column: int  # 1-based, where the tag's name starts
    length: int  # of the whole part, name to value


@dataclass(frozen=True)
class TagList:
    tags: tuple[Tag, ...]
    malformed: tuple[Tag, ...]  # parts that are not tag=value (name: the part's text, value empty)

    def first(self, name: str) -> Tag | None:
        """The first tag of this name (tag names are case-sensitive in both RFCs)."""
        return next((tag for tag in self.tags if tag.name == name), None)

    def duplicates(self) -> tuple[Tag, ...]:
        """Each repetition of a tag already given: RFC 6376 section 3.2 makes the list invalid."""
        seen: set[str] = set()
        found = []
        for tag in self.tags:
            if tag.name in seen:
                found.append(tag)
            seen.add(tag.name)
        return tuple(found)


def parse_tags(text: str) -> TagList:
    tags: list[Tag] = []
    malformed: list[Tag] = []
    offset = 0
    for part in text.split(";"):
        stripped = part.strip(" \t\r\n")
        column = offset + (len(part) - len(part.lstrip(" \t\r\n"))) + 1
        offset += len(part) + 1
        if not stripped:
            continue  # a trailing ';' (or an empty part, which receivers pass over too)
        name, equals, value = stripped.partition("=")
        name, value = name.rstrip(" \t\r\n"), value.strip(" \t\r\n")
        if not equals or not _NAME.fullmatch(name) or not _VALUE.fullmatch(value):
            malformed.append(Tag(stripped, "", column, len(stripped)))
            continue
        tags.append(Tag(name, value, column, len(stripped)))
    return TagList(tuple(tags), tuple(malformed))
