"""Findings of `spfbuild check` that can be trusted, against a real BIND 9 (check.test zone):
no SPF401 for a published record (DNS holds it in strings of at most 255 bytes; its sizes are
given instead), no SPF301 for the ranges a catalogue provider itself publishes (a record
flattened from Microsoft 365 is clean), and SPF502 showing every record found."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import dns.message
import dns.query
import pytest
from support.named import NamedServer


def check(named: NamedServer, *names: str) -> dict[str, dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "spfbuild", "check", "--json", "--nameserver", named.nameserver,
                           "--timeout", "2", *(f"{n}.check.test" for n in names)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.stderr == ""
    return {r["domain"].removesuffix(".check.test"): r for r in json.loads(done.stdout)}


@pytest.fixture(scope="module")
def reports(named: NamedServer) -> dict[str, dict[str, Any]]:
    return check(named, "flat-ms", "broad-own", "long", "two")


def codes(report: dict[str, Any]) -> list[str]:
    return [f["code"] for f in report["findings"]]


def test_a_record_flattened_from_a_catalogue_provider_has_no_findings(reports: dict[str, dict[str, Any]]) -> None:
    assert reports["flat-ms"]["findings"] == []


def test_a_broad_range_of_no_provider_is_still_reported(reports: dict[str, dict[str, Any]]) -> None:
    assert codes(reports["broad-own"]) == ["SPF301"]


def test_a_published_long_record_gets_its_sizes_not_a_string_warning(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["long"]
    assert "SPF401" not in codes(report)
    (size,) = [f for f in report["findings"] if f["code"] == "SPF517"]
    assert size["severity"] == "info"
    length = len(report["record"].encode())
    assert size["message"].startswith(f"the record is {length} bytes, in 2 strings of 247 and 128 bytes; ")


def test_the_answer_size_reported_is_the_size_the_server_sends(named: NamedServer,
                                                               reports: dict[str, dict[str, Any]]) -> None:
    (size,) = [f["message"] for f in reports["long"]["findings"] if f["code"] == "SPF517"]
    query = dns.message.make_query("long.check.test", "TXT", use_edns=False)
    sent = dns.query.udp(query, named.host, timeout=2, port=named.port)
    assert size.endswith(f"the TXT answer at long.check.test is {len(sent.to_wire())} bytes (1 record)")


def test_several_records_are_all_shown(reports: dict[str, dict[str, Any]]) -> None:
    (found,) = [f["message"] for f in reports["two"]["findings"] if f["code"] == "SPF502"]
    assert found.startswith("2 SPF records at two.check.test: ")
    assert '"v=spf1 ip4:192.0.2.1 -all"' in found and '"v=spf1 ip4:192.0.2.2 -all"' in found
