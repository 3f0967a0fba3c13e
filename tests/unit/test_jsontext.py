"""spfbuild's JSON text is json.dumps's, indented by two, whichever library writes it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from spfbuild.jsontext import dumps

# What spfbuild's outputs hold: text (some of it quoted from configs and DNS, so any character),
# integers, flags, nothing, and time stamps.
scalars = st.one_of(
    st.text(), st.integers(min_value=-(2**63), max_value=2**64 - 1), st.booleans(), st.none(),
    st.floats(min_value=1e-3, max_value=1e12, allow_nan=False, allow_infinity=False),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)), max_leaves=20)


@given(values)
def test_escapes_non_ascii_unless_told_not_to(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2)
    assert dumps(value, ensure_ascii=False) == json.dumps(value, indent=2, ensure_ascii=False)


@given(values)
def test_sorts_keys_when_asked(value: Any) -> None:
    assert dumps(value, sort_keys=True) == json.dumps(value, indent=2, sort_keys=True)


def test_integer_keys_are_written_as_text() -> None:
    assert dumps({1: "a", "b": [1, 2]}) == json.dumps({1: "a", "b": [1, 2]}, indent=2)


def test_takes_integers_over_64_bits() -> None:
    assert dumps({"n": 2**70}) == json.dumps({"n": 2**70}, indent=2)


def test_empty_containers_and_tuples() -> None:
    value: dict[str, Any] = {"list": [], "map": {}, "pair": ("a", 1), "nested": [[], {}]}
    assert dumps(value) == json.dumps(value, indent=2)
