"""Text shown to people: what does not print is written escaped, so a value quoted in a line can
neither break it nor drive the terminal, and an invisible character in it is seen."""

from __future__ import annotations

import pytest

from spfbuild.printable import shown, shown_lines


@pytest.mark.parametrize(("text", "seen"), [
    ("example.com", "example.com"),
    ("bücher.example ☃", "bücher.example ☃"),  # letters of any script print
    ("a\nb", "a\\nb"),
    ("tab\there", "tab\\there"),
    ("\x1b[31mred", "\\x1b[31mred"),  # a terminal escape from a DNS record
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("not utf-8 \udcff", "not utf-8 \\udcff"),  # an octet read from DNS that was not UTF-8
    ("line\u2028separator", "line\\u2028separator"),
])
def test_what_does_not_print_is_written_escaped(text: str, seen: str) -> None:
    assert shown(text) == seen


def test_each_line_of_a_report_is_shown_on_its_own() -> None:
    assert shown_lines("first \x1b\nsecond") == "first \\x1b\nsecond"
