"""The DMARC1xx lint rules: each fires on the fault it names, at its column, and a sound record
fires none."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from spfbuild.cli import application
from spfbuild.dmarc import is_dmarc_record
from spfbuild.rules.dmarc import lint_dmarc
from spfbuild.rules.registry import RULES
from spfbuild.taglist import parse_tags

SOUND = [
    "v=DMARC1; p=none; sp=reject; pct=100; rua=mailto:NL365Dmarc@nl365pro.com",
    "v=DMARC1; p=reject; rua=mailto:a@example.com,mailto:b@reports.example.net!10m; ruf=mailto:f@example.com; "
    "adkim=s; aspf=r; fo=1:d; rf=afrf; ri=3600;",
    "v=DMARC1;p=quarantine;pct=0;rua=mailto:x@example.com",
]


def codes(record: str) -> list[str]:
    return [d.code for d in lint_dmarc(record).diagnostics]


@pytest.mark.parametrize("record", SOUND)
def test_a_sound_record_fires_no_rule(record: str) -> None:
    assert codes(record) == []
    assert lint_dmarc(record).ok


# (record, the rule it fires, the column it points at)
CASES = [
    ("v=DMARC2; p=none; rua=mailto:a@example.com", "DMARC100", 1),
    ("p=none; v=DMARC1; rua=mailto:a@example.com", "DMARC100", 1),
    ("v=DMARC1; rua=mailto:a@example.com", "DMARC101", 0),
    ("v=DMARC1; p=monitor; rua=mailto:a@example.com", "DMARC102", 11),
    ("v=DMARC1; p=reject; sp=block", "DMARC103", 21),
    ("v=DMARC1; p=reject; pct=101", "DMARC104", 21),
    ("v=DMARC1; p=reject; pct=-5", "DMARC104", 21),
    ("v=DMARC1; p=reject; rua=https://reports.example/dmarc", "DMARC105", 21),
    ("v=DMARC1; p=reject; rua=dmarc@example.com", "DMARC106", 21),
    ("v=DMARC1; p=reject; rua=mailto:a@example.com!5z", "DMARC106", 21),
    ("v=DMARC1; p=reject; ruf=mailto:nobody", "DMARC106", 21),
    ("v=DMARC1; p=reject; rua=mailto:a@example.com; pc=50", "DMARC107", 47),
    ("v=DMARC1; p=reject; p=none; rua=mailto:a@example.com", "DMARC108", 21),
    ("v=DMARC1; p=reject; adkim=relaxed", "DMARC109", 21),
    ("v=DMARC1; p=reject; fo=2", "DMARC110", 21),
    ("v=DMARC1; p=reject; ri=daily", "DMARC111", 21),
    ("v=DMARC1; p=reject; rf=iodef", "DMARC112", 21),
    ("v=DMARC1; p=reject; rua mailto:a@example.com", "DMARC113", 21),
    ("v=DMARC1; p=none", "DMARC114", 11),
]


@pytest.mark.parametrize(("record", "code", "column"), CASES)
def test_each_rule_fires_on_its_fault_at_its_column(record: str, code: str, column: int) -> None:
    found = [d for d in lint_dmarc(record).diagnostics if d.code == code]
    assert found, codes(record)
    assert found[0].column == column


def test_every_dmarc_rule_is_in_the_registry_and_listed_by_rules() -> None:
    declared = {rule.code for rule in RULES if rule.code.startswith("DMARC")}
    assert declared == {f"DMARC{n}" for n in range(100, 120)}  # DMARC115-119: check's, by DNS
    result = CliRunner().invoke(application(), ["rules", "--json"])
    assert declared <= {rule["code"] for rule in json.loads(result.stdout)}


def test_lint_recognises_dmarc_records_by_their_version_tag() -> None:
    runner = CliRunner()
    result = runner.invoke(application(), ["lint", "--json", "v=DMARC1; p=reject; pct=200"])
    assert result.exit_code == 1
    (entry,) = json.loads(result.stdout)
    assert entry["kind"] == "dmarc" and entry["lookups"] == 0
    assert [d["code"] for d in entry["diagnostics"]] == ["DMARC104"]
    result = runner.invoke(application(), ["lint", '"v=DMARC1; p=reject; rua=mailto:a@example.com"'])
    assert result.exit_code == 0 and "0 errors" in result.stdout
    assert is_dmarc_record(" v = dmarc1 ; p=none") and not is_dmarc_record("v=spf1 -all")


def test_tag_lists_keep_columns_and_find_repeats() -> None:
    tags = parse_tags("v=DMARC1;  p = none ;p=reject; bad;")
    assert [(t.name, t.value, t.column) for t in tags.tags] == [("v", "DMARC1", 1), ("p", "none", 12),
                                                                ("p", "reject", 22)]
    assert [t.name for t in tags.duplicates()] == ["p"]
    assert [(t.name, t.column) for t in tags.malformed] == [("bad", 32)]
