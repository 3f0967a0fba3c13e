"""Flattening against a real BIND 9: every case is evaluated before and after flattening, the
flattened records served back by BIND, for many addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from support.named import FIXTURE_ZONES, NamedFactory, NamedServer, fixture_zones

from spfbuild.catalogue import load_catalogue
from spfbuild.compose import compose
from spfbuild.config import parse_config
from spfbuild.dns import Resolver
from spfbuild.evaluation import check_host
from spfbuild.txt import quote_all, split_strings

CATALOGUE = load_catalogue()

TRICKY = """\
policy: fail
senders:
  - include: excl.flat.test          # -ip4 exclusion and ~all inside the include
  - include: soft.flat.test
  - include: neutral.flat.test
    qualifier: neutral               # ?include
  - include: redir.flat.test         # redirect inside the include
  - a: host.flat.test/24//64
  - mx: flat.test/24
  - ip6: [2001:db8:1::/48]
  - include: d1.flat.test            # four deep
  - include: dup1.flat.test          # the same range from two senders
  - include: dup2.flat.test
  - include: ex.flat.test            # exists:%{i} - kept as written
"""

PROVIDERS = """\
policy: softfail
senders:
  - provider: office365
  - provider: google
  - provider: mimecast
  - provider: mailchimp
  - provider: sendgrid
  - provider: amazon-ses
"""

REDIRECT = """\
existing: "v=spf1 ip4:192.0.2.1 redirect=redir.flat.test"
senders:
  - include: dup1.flat.test
"""


def zone(origin: str, records: list[tuple[str, str]]) -> str:
    lines = ["$TTL 300", f"@ SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 300", "@ NS ns", "ns A 127.0.0.1"]
    lines += [f"{name}. 300 IN TXT {value}" for name, value in records]
    return "\n".join(lines) + "\n"


def flatten_cli(config: Path, nameserver: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spfbuild", "flatten", str(config), "--nameserver", nameserver, *extra],
        capture_output=True, text=True, timeout=120,
    )


def zone_records(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        if not line or line.startswith(";"):
            continue
        owner, _ttl, klass, rtype, value = line.split("\t")
        assert (klass, rtype) == ("IN", "TXT")
        out.append((owner.rstrip("."), value))
    return out


def addresses_for(records: list[str], count: int = 400) -> list[str]:
    """Boundaries of every range mentioned in the records and zones, plus random addresses."""
    rng = random.Random(7208)
    found: set[str] = set()
    texts = records + [p.read_text() for p in FIXTURE_ZONES.glob("*.zone")] + [(FIXTURE_ZONES / "flat.test.zone").read_text()]
    for text in texts:
        for token in text.replace('"', " ").split():
            if not token.lstrip("-~?+").startswith(("ip4:", "ip6:")):
                continue
            try:
                net = ipaddress.ip_network(token.lstrip("-~?+")[4:], strict=False)
            except ValueError:
                continue  # the evaluator's zones hold deliberately broken records
            for value in (int(net.network_address) - 1, int(net.network_address), int(net.broadcast_address),
                          int(net.broadcast_address) + 1):
                if 0 <= value < 2 ** net.max_prefixlen:
                    found.add(str(ipaddress.ip_address(value) if net.version == 4 else ipaddress.IPv6Address(value)))
    found |= {"192.0.2.77", "192.0.2.200", "2001:db8:77::1", "198.51.100.200", "198.51.100.9", "198.51.100.250"}
    found |= {str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(count)}
    return sorted(found)


async def compare(nameserver: str, before: str, after: str, addresses: list[str]) -> list[str]:
    resolver = Resolver([nameserver], timeout=2)
    problems = []
    for address in addresses:
        old = await check_host(address, before, f"postmaster@{before}", resolver, max_lookups=1000, max_void_lookups=1000)
        new = await check_host(address, after, f"postmaster@{after}", resolver)
        if old.result != new.result:
            problems.append(f"{address}: {old.result} before, {new.result} after")
        assert new.lookups <= 10
    return problems


@pytest.mark.parametrize(("name", "body"), [("tricky", TRICKY), ("providers", PROVIDERS), ("redirect", REDIRECT)])
def test_flattening_keeps_every_address_result(name: str, body: str, named: NamedServer, named_factory: NamedFactory, tmp_path: Path) -> None:
    config = tmp_path / f"{name}.yaml"
    config.write_text(f"domain: {name}.after.test\n{body}", encoding="utf-8")
    proc = flatten_cli(config, named.nameserver, "--format", "zone")
    assert proc.returncode == 0, proc.stderr
    flattened = zone_records(proc.stdout)
    assert sum(1 for owner, value in flattened if value.startswith('"v=spf1') and owner == f"{name}.after.test") == 1
    (spec,) = parse_config(f"domain: {name}.before.test\n{body}", "c.yaml", CATALOGUE).domains
    original = str(compose(spec, CATALOGUE).record)
    zones = fixture_zones()
    zones["before.test"] = zone("before.test", [(f"{name}.before.test", quote_all(split_strings(original)))])
    zones["after.test"] = zone("after.test", flattened)
    server = named_factory(zones)
    problems = asyncio.run(compare(server.nameserver, f"{name}.before.test", f"{name}.after.test",
                                   addresses_for([original, proc.stdout])))
    assert problems == []


def test_six_providers_fit_ten_lookups_and_the_byte_budget(named: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "p.yaml"
    config.write_text(f"domain: example.test\n{PROVIDERS}", encoding="utf-8")
    proc = flatten_cli(config, named.nameserver, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (item,) = json.loads(proc.stdout)
    assert item["lookups"] <= 10
    for record in item["records"]:
        assert record["size"] <= 450
        assert all(len(s.encode()) <= 255 for s in record["strings"])
    assert item["self_checked_addresses"] > 100


def test_keep_leaves_the_literal_include(named: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "k.yaml"
    config.write_text(
        "domain: example.test\npolicy: fail\nsenders:\n  - provider: mimecast\n    region: eu\n"
        "  - provider: google\nflatten:\n  keep: [mimecast]\n  max_lookups: 2\n", encoding="utf-8")
    proc = flatten_cli(config, named.nameserver)
    assert proc.returncode == 0, proc.stderr
    assert "include:eu._netblocks.mimecast.com" in proc.stdout
    assert "_spf.google.com" not in proc.stdout


def test_explain_names_the_sender_and_dns_names(named: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "e.yaml"
    config.write_text("domain: example.test\npolicy: fail\nsenders:\n  - include: d1.flat.test\nflatten:\n  max_lookups: 0\n",
                      encoding="utf-8")
    proc = flatten_cli(config, named.nameserver, "--explain")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '"v=spf1 ip4:198.18.0.0/30 ip4:198.18.0.4 ip4:198.18.0.6/31 ip4:198.18.0.8/29 ip4:198.18.0.16/28 ' \
        'ip4:198.18.0.32/27 ip4:198.18.0.64/26 ip4:198.18.0.128/25 ip4:203.0.113.200 ip6:2001:db8:d4::/48 -all"'
    assert "d1.flat.test > d2.flat.test > d3.flat.test > d4.flat.test" in proc.stderr


def test_over_budget_is_an_error_naming_the_domain(named: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "o.yaml"
    config.write_text("domain: example.test\npolicy: fail\nsenders:\n  - include: ex.flat.test\n  - provider: google\n"
                      "flatten:\n  max_lookups: 0\n", encoding="utf-8")
    proc = flatten_cli(config, named.nameserver)
    assert proc.returncode == 1
    assert proc.stderr.startswith("spfbuild: error: example.test: 3 DNS lookups even with everything flattenable flattened, over the budget of 0 (kept: include:ex.flat.test)")
    assert "Traceback" not in proc.stderr


def test_dns_failure_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "d.yaml"
    config.write_text("domain: example.test\npolicy: fail\nsenders:\n  - provider: google\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    out.write_text("good\n")
    proc = flatten_cli(config, "127.0.0.1:9", "--timeout", "1", "--output", str(out))
    assert proc.returncode == 3, "a DNS failure only"
    assert "temperror" in proc.stderr and "_spf.google.com" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert out.read_text() == "good\n"
