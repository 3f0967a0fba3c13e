"""`spfbuild check` against BIND reports each domain's DMARC record, the authorisation of its
external report destinations and the DKIM selectors of the providers it includes: complete,
missing and broken."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from support.named import NamedServer

from .conftest import require_named

SOA = "$TTL 300\n@ IN SOA ns.{0}. hostmaster.{0}. ( 1 3600 900 604800 300 )\n@ IN NS ns.{0}.\nns IN A 127.0.0.1\n"
KEY = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"
ZONES = {
    "mcsv.net": SOA.format("mcsv.net") + f'servers IN TXT "v=spf1 ip4:205.201.128.0/20 -all"\ndkim IN TXT "{KEY}"\n',
    "reports.example": SOA.format("reports.example")
    + 'complete.test._report._dmarc IN TXT "v=DMARC1"\n',
    "complete.test": SOA.format("complete.test") + '@ IN TXT "v=spf1 include:servers.mcsv.net -all"\n'
    + '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:d@complete.test,mailto:agg@reports.example"\n'
    + "k1._domainkey IN CNAME dkim.mcsv.net.\n",
    "missing.test": SOA.format("missing.test") + '@ IN TXT "v=spf1 include:servers.mcsv.net -all"\n',
    "broken.test": SOA.format("broken.test") + '@ IN TXT "v=spf1 include:servers.mcsv.net -all"\n'
    + '_dmarc IN TXT "v=DMARC1; p=block; pct=200; rua=mailto:agg@reports.example"\n'
    + 'k1._domainkey IN TXT "v=DKIM1; p="\n',
}


@pytest.fixture(scope="module")
def server() -> Iterator[NamedServer]:
    """One server for the module's checks (they only read)."""
    started = NamedServer(ZONES, named_binary=require_named())
    started.start()
    yield started
    started.close()


def check(server: NamedServer, *domains: str) -> tuple[int, list[dict[str, Any]]]:
    done = subprocess.run([sys.executable, "-m", "spfbuild", "check", "--json", "--nameserver", server.nameserver,
                           "--timeout", "2", *domains], capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, json.loads(done.stdout)


def codes(findings: list[dict[str, Any]]) -> set[str]:
    return {f["code"] for f in findings}


def test_complete_dmarc_and_dkim_report_nothing_amiss(server: NamedServer) -> None:
    code, (report,) = check(server, "complete.test")
    assert code == 0
    assert report["dmarc"]["policy"] == "reject" and report["dmarc"]["findings"] == []
    assert report["dmarc"]["report_destinations"] == [{"domain": "reports.example", "authorised": True}]
    assert report["dkim"] == {"selectors": [{"provider": "Mailchimp", "selector": "k1",
                                             "name": "k1._domainkey.complete.test", "status": "ok"}],
                              "findings": []}


def test_missing_dmarc_and_dkim_are_warnings(server: NamedServer) -> None:
    code, (report,) = check(server, "missing.test")
    assert code == 0  # warnings only
    assert report["dmarc"]["record"] is None and codes(report["dmarc"]["findings"]) == {"DMARC115"}
    assert report["dkim"]["selectors"][0]["status"] == "missing"
    assert codes(report["dkim"]["findings"]) == {"DMARC118"}


def test_broken_dmarc_is_an_error_and_a_revoked_key_is_told(server: NamedServer) -> None:
    code, (report,) = check(server, "broken.test")
    assert code == 1
    assert codes(report["dmarc"]["findings"]) == {"DMARC102", "DMARC104", "DMARC117"}
    assert report["dmarc"]["report_destinations"] == [{"domain": "reports.example", "authorised": False}]
    assert report["dkim"]["selectors"][0]["status"] == "revoked"


def test_every_domain_of_a_bulk_run_has_both_keys(server: NamedServer) -> None:
    code, reports = check(server, "complete.test", "missing.test", "broken.test", "gone.missing.test")
    assert code == 1
    assert [r["domain"] for r in reports] == ["complete.test", "missing.test", "broken.test", "gone.missing.test"]
    assert all("dmarc" in r and "dkim" in r for r in reports)
