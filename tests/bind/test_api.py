"""The Python API's DNS functions against a real BIND 9: flatten, check and evaluate, and their async twins."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import pytest
from support.named import NamedServer

import spfbuild
from spfbuild.config import DomainSpec, FlattenSettings, Sender
from spfbuild.record import Qualifier


def _config(*specs: DomainSpec) -> spfbuild.Config:
    return spfbuild.Config("code", specs)


def test_flatten_returns_exact_ranges_for_each_domain(named: NamedServer) -> None:
    # d1 -> d2 -> d3 (which fails 198.18.0.5 before including d4's 198.18.0.0/24) -> d4: flattened whole.
    spec = DomainSpec("example.test", senders=(Sender("include", value="d1.flat.test"),), policy=Qualifier.FAIL,
                      flatten=FlattenSettings(max_lookups=0))
    (result,) = spfbuild.flatten(_config(spec), nameservers=[named.nameserver], timeout=5)
    assert result.error is None
    (main,) = result.records
    assert (main.name, main.ttl) == ("example.test", 3600)
    assert main.text == (
        "v=spf1 ip4:198.18.0.0/30 ip4:198.18.0.4 ip4:198.18.0.6/31 ip4:198.18.0.8/29 ip4:198.18.0.16/28 "
        "ip4:198.18.0.32/27 ip4:198.18.0.64/26 ip4:198.18.0.128/25 ip4:203.0.113.200 ip6:2001:db8:d4::/48 -all"
    )


def test_flatten_reports_a_failed_domain_beside_the_good_one(named: NamedServer) -> None:
    good = DomainSpec("example.test", senders=(Sender("include", value="dup1.flat.test"),), policy=Qualifier.FAIL)
    bad = DomainSpec("broken.example.test", senders=(Sender("include", value="missing.flat.test"),),
                     policy=Qualifier.FAIL)
    results = spfbuild.flatten(_config(bad, good), nameservers=[named.nameserver], timeout=5)
    assert [r.domain for r in results] == ["broken.example.test", "example.test"]
    assert results[0].error is not None and "missing.flat.test" in results[0].error
    # Within the lookup budget, the include stays as it is: it follows its owner's changes.
    assert results[1].ok and results[1].records[0].text == "v=spf1 include:dup1.flat.test -all"


def test_check_reports_each_domain_in_order(named: NamedServer) -> None:
    reports = spfbuild.check(["example.test", "nothing-here.example.test"], nameservers=[named.nameserver])
    assert [r.domain for r in reports] == ["example.test", "nothing-here.example.test"]
    assert reports[0].record == "v=spf1 include:_spf.google.com -all"
    assert reports[0].lookups == 4  # _spf.google.com and its three _netblocks records
    assert reports[1].record is None
    assert any(f.diagnostic.severity is spfbuild.Severity.ERROR for f in reports[1].findings)


def test_evaluate_gives_the_receivers_result(named: NamedServer) -> None:
    inside = spfbuild.evaluate("198.18.0.1", "user@d1.flat.test", nameservers=[named.nameserver])
    excluded = spfbuild.evaluate("198.18.0.5", "user@d1.flat.test", nameservers=[named.nameserver])
    assert (inside.result, inside.lookups) == ("pass", 3)
    assert (excluded.result, excluded.lookups) == ("neutral", 2)  # d3 fails it, so d1's include does not match
    outside = spfbuild.evaluate("192.0.2.200", "user@dup1.flat.test", nameservers=[named.nameserver])
    assert outside.result == "fail" and outside.lookups == 0 and outside.void_lookups == 0


def test_the_async_twins_run_inside_a_running_loop(named: NamedServer) -> None:
    async def main() -> tuple[str, int, bool]:
        evaluation = await spfbuild.evaluate_async("192.0.2.1", "user@dup1.flat.test", nameservers=[named.nameserver])
        (report,) = await spfbuild.check_async(["example.test"], nameservers=[named.nameserver])
        spec = DomainSpec("example.test", senders=(Sender("ip4", networks=(ipaddress.ip_network("192.0.2.0/24"),)),),
                          policy=Qualifier.FAIL)
        (result,) = await spfbuild.flatten_async(_config(spec), nameservers=[named.nameserver])
        return evaluation.result, report.lookups, result.ok

    assert asyncio.run(main()) == ("pass", 4, True)


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_example() -> str:
    text = README.read_text()
    block = text.split("<!-- api-example -->\n```python\n", 1)[1].split("```", 1)[0]
    assert 'nameservers = ["127.0.0.1:53"]' in block
    return block


def test_the_readme_api_example_runs_as_written(named: NamedServer, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # Only the server address changes: the example's own servers are the fixture's BIND.
    code = _readme_example().replace('["127.0.0.1:53"]', repr([named.nameserver]))
    monkeypatch.chdir(README.parent)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    rendered = [line for line in out if " 3600 v=spf1 " in line or " 300 v=spf1 " in line]
    assert rendered, out
    assert any(line.startswith("True ") or line.startswith("False ") for line in out)
    assert out[-1].split()[0] in {"pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"}
