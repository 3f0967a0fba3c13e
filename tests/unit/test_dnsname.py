"""What DNS can carry as a name: one judgement (spfbuild.dnsname) for configs, records, the
evaluator and the resolver (RFC 1035 sections 2.3.4 and 3.1)."""

from __future__ import annotations

import pytest

from spfbuild.dnsname import is_toplabel, name_labels, name_problem

LABEL_63 = "a" * 63


@pytest.mark.parametrize("name", [
    "example.com", "_spf.example.com", "x", f"{LABEL_63}.example", ".".join(["abcdefghi"] * 25) + ".abc",  # 253 octets
    "bücher.example",  # 7 octets in UTF-8: a label DNS can carry (the config writes its A-label)
])
def test_names_dns_can_carry_have_no_problem(name: str) -> None:
    assert len(name.encode()) <= 253
    assert name_problem(name) is None


@pytest.mark.parametrize(("name", "problem"), [
    ("", "empty name"),
    ("a..example", "empty label"),
    (".example", "empty label"),
    ("example.", "empty label"),  # the root's dot is not written here
    (f"{LABEL_63}b.example", f"label '{LABEL_63}b' is 64 octets long; DNS allows 63"),
    (".".join(["abcdefghi"] * 25) + ".abcd", "the name is 254 octets long; DNS allows 253"),
    ("é" * 32 + ".example", f"label '{'é' * 32}' is 64 octets long; DNS allows 63"),  # octets, not characters
    ("\udcff" * 64 + ".example", "is 64 octets long; DNS allows 63"),  # octets read from DNS that were not UTF-8
])
def test_a_name_dns_cannot_carry_says_why(name: str, problem: str) -> None:
    found = name_problem(name)
    assert found is not None and found.endswith(problem)


def test_a_question_carries_each_label_as_its_octets() -> None:
    assert name_labels("_spf.Bücher.example") == (b"_spf", "Bücher".encode(), b"example")
    assert name_labels("a..example") == "'a..example': empty label"


@pytest.mark.parametrize(("label", "top"), [
    ("com", True), ("xn--p1ai", True), ("a1", True), ("1a", True), ("a-1", True),
    ("123", False), ("-com", False), ("com-", False), ("", False), ("co_m", False), ("com\n", False),
])
def test_a_top_label_has_a_letter_or_an_inner_hyphen(label: str, top: bool) -> None:
    assert is_toplabel(label) is top
