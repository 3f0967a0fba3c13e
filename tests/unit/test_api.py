"""The Python API: `import spfbuild` gives typed functions that return values, never print or exit."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from support import nl365pro

import spfbuild
from spfbuild.config import DomainSpec, Sender
from spfbuild.record import Qualifier

SAMPLES = Path(__file__).resolve().parents[2] / "sample-configs"


def test_every_public_name_is_listed_in_all_and_resolves() -> None:
    for name in spfbuild.__all__:
        assert getattr(spfbuild, name) is not None, name
    assert "lint" in dir(spfbuild)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        _ = spfbuild.nonsense


def test_importing_spfbuild_loads_neither_yaml_nor_the_dns_stack() -> None:
    code = "import sys, spfbuild; print(sorted(m for m in ('yaml', 'asyncio', 'dns', 'netaddr') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_lint_returns_a_result_with_diagnostics() -> None:
    result = spfbuild.lint("v=spf1 ip4:123.456.0.12 -all")
    assert not result.ok
    (only,) = result.diagnostics
    assert (only.code, only.name, only.severity) == ("SPF107", "invalid-ip4", spfbuild.Severity.ERROR)
    assert only.message == "'123.456.0.12' is not a valid IPv4 address"


def test_lint_of_a_clean_record_is_ok() -> None:
    assert spfbuild.lint("v=spf1 ip4:192.0.2.0/24 -all").ok


def test_lint_accepts_pasted_txt_strings() -> None:
    assert spfbuild.lint('"v=spf1 ip4:192.0.2.0/24" " -all"').ok


def test_load_config_and_render_a_sample() -> None:
    config = spfbuild.load_config(SAMPLES / "office365-mailchimp.yaml")
    (result,) = spfbuild.render(config)
    assert result.ok and result.error is None
    assert result.domain == "example.com"
    (record,) = result.records
    assert (record.name, record.ttl) == ("example.com", 3600)
    assert record.text == "v=spf1 include:spf.protection.outlook.com include:servers.mcsv.net ip4:178.251.192.3 -all"


def test_load_config_accepts_a_string_path() -> None:
    assert spfbuild.load_config(str(SAMPLES / "msp-domains.yaml")).domains


def test_a_config_built_in_code_needs_no_yaml_positions() -> None:
    spec = DomainSpec(
        "example.org",
        senders=(Sender("provider", value="google"), Sender("ip4", networks=(ipaddress.ip_network("192.0.2.0/24"),))),
        policy=Qualifier.SOFTFAIL,
    )
    (result,) = spfbuild.render(spfbuild.Config("code", (spec,)))
    assert result.records[0].text == "v=spf1 include:_spf.google.com ip4:192.0.2.0/24 ~all"


def test_one_domain_failing_does_not_hide_the_others() -> None:
    good = DomainSpec("good.example", senders=(Sender("provider", value="google"),), policy=Qualifier.FAIL)
    bad = DomainSpec("bad.example", existing="v=spf1 ip4:192.0.2.0/33 -all", policy=Qualifier.FAIL)
    results = spfbuild.render(spfbuild.Config("code", (bad, good)))
    assert [r.domain for r in results] == ["bad.example", "good.example"]
    assert results[0].error is not None and results[0].error.startswith("bad.example:") and not results[0].records
    assert results[1].ok and results[1].records


def test_a_config_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text("domain: example.com\npolicy: fail\nsenders:\n  - provider: offic365\n")
    with pytest.raises(spfbuild.ConfigError, match=r"senders\.yaml:4:\d+: unknown provider 'offic365'"):
        spfbuild.load_config(path)


def test_every_error_derives_from_spfbuilderror() -> None:
    for name in ("ConfigError", "CatalogueError", "RenderError", "FlattenError", "ArgumentError"):
        assert issubclass(getattr(spfbuild, name), spfbuild.SPFBuildError), name


def test_a_bad_address_or_nameserver_is_an_argument_error() -> None:
    with pytest.raises(spfbuild.ArgumentError, match="not an IPv4 or IPv6 address"):
        spfbuild.evaluate("192.0.2.300", "user@example.com", nameservers=["127.0.0.1:9"])
    with pytest.raises(spfbuild.ArgumentError, match="bad nameserver"):
        spfbuild.evaluate("192.0.2.1", "user@example.com", nameservers=["127.0.0.1:99999"])
    with pytest.raises(spfbuild.ArgumentError, match="positive"):
        spfbuild.check(["example.com"], nameservers=["127.0.0.1:9"], timeout=0)


def test_render_returns_the_dkim_and_dmarc_records_beside_the_spf_record(tmp_path: Path) -> None:
    config = tmp_path / "nl365pro.yaml"
    config.write_text(nl365pro.CONFIG, encoding="utf-8")
    (result,) = spfbuild.render(spfbuild.load_config(config))
    assert result.records[0].text == nl365pro.SPF
    assert [(c.name, c.type, c.value) for c in result.companions] == [
        *((name, "CNAME", target) for name, target in nl365pro.CNAMES.items()),
        ("_dmarc.nl365pro.com", "TXT", nl365pro.DMARC),
    ]
