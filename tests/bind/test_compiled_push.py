"""Publishing a macro-compiled zone with RFC 2136 + TSIG to a real BIND 9: the zone goes in
before the main record that names it, an unchanged run says nothing, a provider change gets a
new label and the old one is deleted only after its TTL, a wrong key or a dead server changes
nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.named import NamedFactory, NamedServer
from support.pyspf_oracle import Oracle

from bind.test_cron import CUSTOMER, cron, spf_at, spfbuild, txt
from bind.test_flatten import zone
from spfbuild.publish import BULK

# Eleven /25 ranges: 128 names each, more records than one UPDATE carries.
RANGES = " ".join(f"ip4:198.18.{n}.0/25" for n in range(11))
SENDERS = zone("senders.test", [
    ("_spf.big.senders.test", f'"v=spf1 {RANGES} -ip4:192.0.2.9 ip4:192.0.2.0/24 ~all"'),
    ("_spf.crm.senders.test", '"v=spf1 exists:%{i}._spf.crm.senders.test ip4:203.0.113.0/24 -all"'),
])
CONFIG = """\
domain: customer.test
policy: fail
ttl: 1
senders:
  - include: _spf.big.senders.test
  - include: _spf.crm.senders.test
flatten:
  mode: macro
"""


@pytest.fixture
def server(named_factory: NamedFactory) -> NamedServer:
    server = named_factory({"customer.test": CUSTOMER, "senders.test": SENDERS}, updatable=["customer.test"])
    server.tsig_key.path.chmod(0o600)
    return server


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "senders.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def label_of(main: str) -> str:
    return main.rsplit("redirect=%{ir}.%{v}.", 1)[1]


def test_a_push_publishes_the_zone_and_switches_the_main_record(server: NamedServer, config: Path,
                                                                 tmp_path: Path) -> None:
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (main,) = spf_at(server, "customer.test")
    assert "google-site-verification=abc123" in txt(server, "customer.test")
    label = label_of(main)
    # The CRM's include, kept for its macros, is evaluated in the compiled zone by every client
    # that reaches it there: one lookup for the compiled part.
    assert main == "v=spf1 redirect=%{ir}.%{v}." + label
    assert txt(server, f"*.in-addr.{label}") == ["v=spf1 include:_spf.crm.senders.test -all"]
    records = json.loads((tmp_path / "state.json").read_text())["domains"]["customer.test"]["records"]
    assert len(records) - 1 > BULK
    assert f"compiled zone {label}: {len(records) - 1:,} records" in proc.stdout
    oracle = Oracle(server.nameserver)
    for ip, want in (("198.18.3.7", "pass"), ("198.18.3.200", "fail"), ("192.0.2.9", "fail"),
                     ("192.0.2.10", "pass"), ("203.0.113.5", "pass"), ("2001:db8::1", "fail")):
        assert oracle.result(ip, "customer.test") == want, ip


def test_an_unchanged_run_prints_nothing(server: NamedServer, config: Path, tmp_path: Path) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    proc = cron(server, config, tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    check = cron(server, config, tmp_path, "--check")
    assert (check.returncode, check.stdout, check.stderr) == (0, "", "")


def test_a_provider_change_gets_a_new_label_and_the_old_one_goes_after_its_ttl(
    server: NamedServer, config: Path, tmp_path: Path
) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    before = json.loads((tmp_path / "state.json").read_text())["domains"]["customer.test"]["records"]
    (old_main,) = spf_at(server, "customer.test")
    old = label_of(old_main)
    server.replace_zone("senders.test", SENDERS.replace("ip4:198.18.0.0/25", "ip4:198.18.0.0/24"))
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (new_main,) = spf_at(server, "customer.test")
    new = label_of(new_main)
    assert new != old
    assert spf_at(server, f"0.0.18.198.in-addr.{new}") == ["v=spf1 +all"]
    rest = ["v=spf1 include:_spf.crm.senders.test -all"]  # IPv4 clients none of the ranges names
    assert spf_at(server, f"*.in-addr.{old}") == rest, "the old label stays until its TTL has passed"
    time.sleep(1.2)  # the config's TTL is 1 s
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert spf_at(server, f"*.in-addr.{old}") == [] and spf_at(server, f"0.0.18.198.in-addr.{old}") == []
    deleted = len(before) - 1
    assert f"  deleted {deleted:,} compiled records under {old}\n" in proc.stdout
    assert spf_at(server, f"*.in-addr.{new}") == rest


def test_a_wrong_key_publishes_nothing_and_keeps_the_state(server: NamedServer, config: Path,
                                                           tmp_path: Path) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    state_before = (tmp_path / "state.json").read_bytes()
    server.replace_zone("senders.test", SENDERS.replace("ip4:198.18.0.0/25", "ip4:198.18.0.0/24"))
    published = spf_at(server, "customer.test")
    bad = tmp_path / "bad.key"
    bad.write_text(server.tsig_key.path.read_text().replace(server.tsig_key.secret, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"))
    bad.chmod(0o600)
    proc = cron(server, config, tmp_path, key=bad)
    assert proc.returncode == 3, "TSIG refused is a network failure: nothing was changed"
    assert ("TSIG" in proc.stderr or "NOTAUTH" in proc.stderr) and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert (tmp_path / "state.json").read_bytes() == state_before
    assert spf_at(server, "customer.test") == published


def test_a_dead_server_fails_fast_and_keeps_the_state(server: NamedServer, config: Path, tmp_path: Path) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    state_before = (tmp_path / "state.json").read_bytes()
    server.replace_zone("senders.test", SENDERS.replace("ip4:198.18.0.0/25", "ip4:198.18.0.0/24"))
    started = time.monotonic()
    proc = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                    "--push", "rfc2136://127.0.0.1:9/customer.test", "--tsig-key", server.tsig_key.path,
                    "--timeout", "2")
    assert time.monotonic() - started < 30
    assert proc.returncode == 3, "an unreachable push server is a network failure"
    assert "customer.test" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "state.json").read_bytes() == state_before


SHARED = """\
defaults:
  policy: fail
  ttl: 1
  flatten:
    mode: macro
    macro_zone: _spf.customer.test
domains:
  a.customer.test:
    senders:
      - include: _spf.big.senders.test
  b.customer.test:
    senders:
      - include: _spf.big.senders.test
"""


def test_a_shared_zone_stays_while_another_domain_uses_it(server: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "shared.yaml"
    config.write_text(SHARED, encoding="utf-8")
    assert cron(server, config, tmp_path).returncode == 0
    (a_main,) = spf_at(server, "a.customer.test")
    (b_main,) = spf_at(server, "b.customer.test")
    shared = label_of(a_main)
    assert label_of(b_main) == shared and shared.endswith("._spf.customer.test")
    config.write_text(SHARED.replace("      - include: _spf.big.senders.test\n  b.customer.test",
                                     "      - include: _spf.big.senders.test\n      - ip4: [203.0.113.9]\n"
                                     "  b.customer.test"), encoding="utf-8")
    assert cron(server, config, tmp_path).returncode == 0
    assert label_of(spf_at(server, "a.customer.test")[0]) != shared
    time.sleep(1.2)  # past the TTL of a's old records
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert spf_at(server, "b.customer.test") == [b_main]
    assert spf_at(server, f"*.in-addr.{shared}") == ["v=spf1 -all"], "b still uses the shared zone"
