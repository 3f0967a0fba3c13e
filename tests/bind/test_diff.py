"""`spfbuild diff` against a real BIND 9: what each domain publishes, judged by every address's
result against the declaration. Records published as declared, as `spfbuild flatten` flattened
them and as it compiled them (macro mode) are in sync; a provider that changes a range makes the
flattened and compiled publications differ (with the ranges, both results and the deciding
terms), not the one that includes the provider; a domain without SPF is missing; a server that
does not answer is unreachable; declared DKIM and DMARC records are compared by meaning."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support.named import FIXTURE_ZONES, NamedFactory, load_zone_dir

import spfbuild
from spfbuild.catalogue import load_catalogue
from spfbuild.config import load_config
from spfbuild.dns import Resolver
from spfbuild.drift import diff_all

ZONE = "diff.test"
SENDERS = "    senders: [{include: excl.flat.test}, {ip4: [198.51.100.0/28]}]\n"
KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzY2FmZWJhYmU="
DMARC = "v=DMARC1; p=reject; rua=mailto:reports@companions.diff.test"
COMPANIONS = f"""\
    senders:
      - ip4: [198.51.100.0/28]
      - provider: mailchimp
        dkim: true
      - ip4: [203.0.113.9]
        dkim: {{selector: s1, key: "{KEY}"}}
    dmarc: {{policy: reject, rua: [mailto:reports@companions.diff.test]}}
"""
# Published by flatten (every include flattened: max_lookups 0), or compiled (macro mode).
FLATTENED = f"""\
defaults:
  policy: fail
  flatten: {{max_lookups: 0}}
domains:
  flattened.{ZONE}:
{SENDERS}  compiled.{ZONE}:
    flatten: {{mode: macro}}
{SENDERS}"""
CONFIG = FLATTENED + f"""\
  asdeclared.{ZONE}:
{SENDERS}  missing.{ZONE}:
{SENDERS}  companions.{ZONE}:
{COMPANIONS}  drifted.{ZONE}:
{COMPANIONS.replace("companions.diff.test", "drifted.diff.test")}"""

PUBLISHED = [
    ("asdeclared", '"v=spf1 include:excl.flat.test ip4:198.51.100.0/28 -all"'),
    ("missing", '"google-site-verification=abc"'),
    # Equal by meaning: tags in another order, a default spelt out, the key split and spaced.
    ("companions", '"v=spf1 ip4:198.51.100.0/28 include:servers.mcsv.net ip4:203.0.113.9 -all"'),
    ("_dmarc.companions", '"v=DMARC1; rua=mailto:reports@companions.diff.test; pct=100; p=reject"'),
    ("k1._domainkey.companions", "CNAME dkim.mcsv.net."),
    ("s1._domainkey.companions", f'"v=DKIM1; k=rsa; p={KEY[:30]}" " {KEY[30:]}"'),
    # The policy relaxed, Mailchimp's CNAME never published, another key.
    ("drifted", '"v=spf1 ip4:198.51.100.0/28 include:servers.mcsv.net ip4:203.0.113.9 -all"'),
    ("_dmarc.drifted", '"v=DMARC1; p=none; rua=mailto:reports@drifted.diff.test"'),
    ("s1._domainkey.drifted", '"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAbmV3a2V5"'),
]


def diff_zone(extra: str = "") -> str:
    lines = ["$TTL 300", f"@ SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300", "@ NS ns", "ns A 127.0.0.1"]
    lines += [f"{name} {value if value.startswith('CNAME') else 'TXT ' + value}" for name, value in PUBLISHED]
    return "\n".join(lines) + "\n" + extra


def providers(changed: bool = False) -> dict[str, str]:
    zones = load_zone_dir(FIXTURE_ZONES)
    if changed:  # the provider now sends from a /23, not a /24
        zones["flat.test"] = zones["flat.test"].replace("ip4:192.0.2.0/24 ~all", "ip4:192.0.2.0/23 ~all")
    return zones


def spfbuild_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfbuild", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def published_records(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The zone text `spfbuild flatten --format zone` gives the flattened and compiled domains."""
    from support.named import NamedServer

    directory = tmp_path_factory.mktemp("flatten")
    (directory / "flatten.yaml").write_text(FLATTENED, encoding="utf-8")
    with NamedServer(providers()) as server:
        done = spfbuild_cli("flatten", str(directory / "flatten.yaml"), "--nameserver", server.nameserver,
                            "--format", "zone")
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "senders.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def diff_json(config: Path, nameserver: str, *extra: str) -> tuple[int, dict[str, dict[str, Any]]]:
    done = spfbuild_cli("diff", str(config), "--json", "--nameserver", nameserver, *extra)
    assert done.stderr == ""
    return done.returncode, {item["domain"]: item for item in json.loads(done.stdout)}


def test_published_as_declared_flattened_or_compiled_is_in_sync(
    named_factory: NamedFactory, config: Path, published_records: str
) -> None:
    server = named_factory({**providers(), ZONE: diff_zone(published_records)})
    code, found = diff_json(config, server.nameserver)
    assert code == 2  # missing.diff.test
    assert {domain: item["status"] for domain, item in found.items()} == {
        f"flattened.{ZONE}": "in sync", f"compiled.{ZONE}": "in sync", f"asdeclared.{ZONE}": "in sync",
        f"missing.{ZONE}": "missing", f"companions.{ZONE}": "in sync", f"drifted.{ZONE}": "differs",
    }
    compiled = found[f"compiled.{ZONE}"]
    assert "redirect=%{ir}.%{v}._spf-m-" in str(compiled["published"]) and compiled["note"] is None
    assert compiled["differences"] == [] and compiled["error"] is None
    assert found[f"missing.{ZONE}"]["published"] is None


def test_a_provider_change_makes_flattened_and_compiled_publications_differ(
    named_factory: NamedFactory, config: Path, published_records: str
) -> None:
    server = named_factory({**providers(changed=True), ZONE: diff_zone(published_records)})
    code, found = diff_json(config, server.nameserver)
    assert code == 2
    assert found[f"asdeclared.{ZONE}"]["status"] == "in sync"  # its include follows the provider
    flattened = found[f"flattened.{ZONE}"]
    assert flattened["status"] == "differs"
    assert flattened["differences"] == [{
        "range": "192.0.3.0/24", "declared": "pass", "published": "fail",
        "declared_term": "ip4:192.0.2.0/23 in excl.flat.test (via include:excl.flat.test)",
        "published_term": f"-all in flattened.{ZONE}",
    }]
    assert flattened["record_diff"] == ["- include:excl.flat.test", "+ ip4:192.0.2.0/25"]
    compiled = found[f"compiled.{ZONE}"]
    assert compiled["status"] == "differs"
    (difference,) = compiled["differences"]
    assert (difference["range"], difference["declared"], difference["published"]) == ("192.0.3.0/24", "pass",
                                                                                       "fail")
    assert str(difference["published_term"]).startswith("-all in 0.3.0.192.in-addr._spf-m-")
    assert "(via redirect=%{ir}.%{v}._spf-m-" in str(difference["published_term"])
    assert "not the one the declaration compiles to" in str(compiled["note"])  # a changed partition: a new label


def test_the_text_output_names_each_domain_then_the_details(
    named_factory: NamedFactory, config: Path, published_records: str
) -> None:
    server = named_factory({**providers(changed=True), ZONE: diff_zone(published_records)})
    done = spfbuild_cli("diff", str(config), "--nameserver", server.nameserver)
    assert (done.returncode, done.stderr) == (2, "")
    out = done.stdout.splitlines()
    assert [line for line in out if not line.startswith(" ")] == [
        f"flattened.{ZONE}: differs", f"compiled.{ZONE}: differs", f"asdeclared.{ZONE}: in sync",
        f"missing.{ZONE}: missing", f"companions.{ZONE}: in sync", f"drifted.{ZONE}: differs",
    ]
    start = out.index(f"flattened.{ZONE}: differs")
    assert out[start + 1 : start + 6] == [
        "  192.0.3.0/24: declared pass by ip4:192.0.2.0/23 in excl.flat.test (via include:excl.flat.test), "
        f"published fail by -all in flattened.{ZONE}",
        "  declared:  v=spf1 include:excl.flat.test ip4:198.51.100.0/28 -all",
        "  published: v=spf1 ip4:192.0.2.0/25 ip4:198.51.100.0/28 -all",
        "    - include:excl.flat.test",
        "    + ip4:192.0.2.0/25",
    ]
    quiet = spfbuild_cli("diff", str(config), "--nameserver", server.nameserver, "--quiet")
    assert f"asdeclared.{ZONE}: in sync" not in quiet.stdout and f"missing.{ZONE}: missing" in quiet.stdout


def test_companion_records_differing_or_missing_are_listed(
    named_factory: NamedFactory, config: Path, published_records: str
) -> None:
    server = named_factory({**providers(), ZONE: diff_zone(published_records)})
    _, found = diff_json(config, server.nameserver)
    assert [c["status"] for c in found[f"companions.{ZONE}"]["companions"]] == ["in sync"] * 3
    drifted = found[f"drifted.{ZONE}"]
    assert drifted["differences"] == []  # its SPF record is in sync
    assert drifted["companions"] == [
        {"name": f"k1._domainkey.drifted.{ZONE}", "type": "CNAME", "status": "missing", "declared": "dkim.mcsv.net",
         "published": None, "detail": f"k1._domainkey.drifted.{ZONE} has no CNAME record"},
        {"name": f"s1._domainkey.drifted.{ZONE}", "type": "TXT", "status": "differs",
         "declared": f"v=DKIM1; k=rsa; p={KEY}",
         "published": "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAbmV3a2V5",
         "detail": "the published key is not the declared one"},
        {"name": f"_dmarc.drifted.{ZONE}", "type": "TXT", "status": "differs",
         "declared": "v=DMARC1; p=reject; rua=mailto:reports@drifted.diff.test",
         "published": "v=DMARC1; p=none; rua=mailto:reports@drifted.diff.test",
         "detail": "p=none instead of p=reject; sp=none instead of sp=reject"},
    ]
    done = spfbuild_cli("diff", str(config), "--nameserver", server.nameserver)
    assert f"  _dmarc.drifted.{ZONE} TXT differs: p=none instead of p=reject; sp=none instead of sp=reject" in \
        done.stdout.splitlines()


def test_json_shape(named_factory: NamedFactory, config: Path, published_records: str) -> None:
    server = named_factory({**providers(), ZONE: diff_zone(published_records)})
    _, found = diff_json(config, server.nameserver)
    for item in found.values():
        assert {"domain", "status", "published", "declared", "differences", "companions", "error"} <= item.keys()
        assert item["status"] in ("in sync", "differs", "missing", "unreachable")
        assert isinstance(item["declared"], str) and isinstance(item["differences"], list)


def test_all_in_sync_exits_0(named_factory: NamedFactory, tmp_path: Path, published_records: str) -> None:
    server = named_factory({**providers(), ZONE: diff_zone(published_records)})
    config = tmp_path / "flattened.yaml"
    config.write_text(FLATTENED, encoding="utf-8")
    done = spfbuild_cli("diff", str(config), "--nameserver", server.nameserver)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"flattened.{ZONE}: in sync\ncompiled.{ZONE}: in sync\n",
                                                           "")
    assert spfbuild_cli("diff", str(config), "--nameserver", server.nameserver, "-q").stdout == ""


def test_a_server_that_does_not_answer_is_unreachable_within_the_timeout(config: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never read: questions go unanswered
        port = silent.getsockname()[1]
        started = time.monotonic()
        code, found = diff_json(config, f"127.0.0.1:{port}", "--timeout", "1")
        took = time.monotonic() - started
    assert code == 3
    assert {item["status"] for item in found.values()} == {"unreachable"}
    assert all(str(item["error"]).startswith(domain) for domain, item in found.items())
    assert took < 1 + 10  # one timeout per question, all asked together, plus start-up


def test_a_config_error_exits_1_and_a_missing_config_64(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("domain: a.diff.test\nsenders:\n  - provider: offic365\n", encoding="utf-8")
    done = spfbuild_cli("diff", str(bad), "--nameserver", "127.0.0.1:9")
    assert done.returncode == 1 and done.stderr.startswith("spfbuild: error: ") and "offic365" in done.stderr
    assert spfbuild_cli("diff", str(tmp_path / "none.yaml"), "--nameserver", "127.0.0.1:9").returncode == 64


def test_each_name_and_type_is_asked_once_per_run(
    named_factory: NamedFactory, config: Path, published_records: str
) -> None:
    server = named_factory({**providers(changed=True), ZONE: diff_zone(published_records)})
    resolver = Resolver.within([server.nameserver], 5.0)
    catalogue = load_catalogue()
    cfg = load_config(config, catalogue)
    drifts = asyncio.run(diff_all(cfg.domains, catalogue, resolver))
    assert [d.status for d in drifts] == ["differs", "differs", "in sync", "missing", "in sync", "differs"]
    asked = Counter((q.name, q.rdtype) for q in resolver.queries)
    assert asked and max(asked.values()) == 1, [k for k, n in asked.items() if n > 1]
    # The compiled publication was resolved through DNS at its blocks, one name per address.
    assert sum(1 for name, _ in asked if "._spf-m-" in name) > 10


def test_the_api_returns_one_value_per_domain(
    named_factory: NamedFactory, config: Path, published_records: str
) -> None:
    server = named_factory({**providers(), ZONE: diff_zone(published_records)})
    drifts = spfbuild.diff(spfbuild.load_config(config), nameservers=[server.nameserver])
    assert all(isinstance(d, spfbuild.DomainDrift) for d in drifts)
    assert [(d.domain, d.ok) for d in drifts][:3] == [(f"flattened.{ZONE}", True), (f"compiled.{ZONE}", True),
                                                      (f"asdeclared.{ZONE}", True)]
