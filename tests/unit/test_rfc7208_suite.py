"""The openspf RFC 7208 conformance suite (tests/unit/data/rfc7208-tests.yml, as shipped with
pyspf), every scenario run against check_host() through the in-memory resolver.

Where a case lists several results, any of them passes. An expected explanation of "DEFAULT"
is the suite driver's stand-in for "the receiver's own text": check_host() never invents one,
so there the explanation must be None.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.memresolver import from_suite_zonedata

from spfbuild.evaluation import check_host, spf_identity

DATA = Path(__file__).parent / "data"


def load_cases(filename: str) -> list[Any]:
    cases = []
    with (DATA / filename).open("rb") as stream:
        for scenario in yaml.safe_load_all(stream):
            for name, case in scenario["tests"].items():
                cases.append(pytest.param(scenario, case, id=name))
    return cases


def run_case(scenario: dict[str, Any], case: dict[str, Any]) -> tuple[str, str | None, str]:
    resolver = from_suite_zonedata(scenario["zonedata"])
    helo = case.get("helo", "")
    sender, domain = spf_identity(case["mailfrom"], helo)
    evaluation = asyncio.run(check_host(case["host"], domain, sender, resolver, helo=helo))
    return evaluation.result, evaluation.explanation, "\n".join(str(e) for e in evaluation.trace)


RFC7208_CASES = load_cases("rfc7208-tests.yml")


def test_the_whole_suite_is_here() -> None:
    assert len(RFC7208_CASES) == 203


@pytest.mark.parametrize(("scenario", "case"), RFC7208_CASES)
def test_rfc7208_conformance(scenario: dict[str, Any], case: dict[str, Any]) -> None:
    result, explanation, trace = run_case(scenario, case)
    expected = case["result"] if isinstance(case["result"], list) else [case["result"]]
    assert result in expected, f"{case.get('spec')}: {case.get('description', '')}\n{trace}"
    if "explanation" in case:
        wanted = None if case["explanation"] == "DEFAULT" else case["explanation"]
        assert explanation == wanted, trace


# The suite's RFC 4408 predecessor still holds for RFC 7208 receivers wherever it allows several
# results; it is kept as a second, older opinion on the same rules.
RFC4408_CASES = load_cases("rfc4408-tests.yml")


@pytest.mark.parametrize(("scenario", "case"), RFC4408_CASES)
def test_rfc4408_suite_still_holds(scenario: dict[str, Any], case: dict[str, Any]) -> None:
    result, explanation, trace = run_case(scenario, case)
    expected = case["result"] if isinstance(case["result"], list) else [case["result"]]
    assert result in expected, f"{case.get('spec')}: {case.get('description', '')}\n{trace}"
    if "explanation" in case:
        wanted = None if case["explanation"] == "DEFAULT" else case["explanation"]
        assert explanation == wanted, trace
