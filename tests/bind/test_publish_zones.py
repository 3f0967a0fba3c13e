"""Publishing many domains in many zones from one config, against a real BIND 9 serving two zones
that accept TSIG-signed updates: `publish:` in `defaults:`, each zone found by the server's SOA,
one UPDATE per zone, one zone's failure that zone's alone, and the TTL of the other TXT records
at a name kept."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest
from support.named import NamedFactory, NamedServer, fixture_zones

ZONES = ("one.test", "two.test")
BROKEN = "c07.two.test"  # its sender has no SPF record
VERIFICATIONS = ("google-site-verification=abc123", "MS=ms12345678")


def zone_text(origin: str) -> str:
    """A zone whose apex holds site verifications at TTL 300."""
    return (f"$TTL 3600\n@ IN SOA ns.{origin}. hostmaster.{origin}. ( 1 3600 900 604800 300 )\n"
            f"@ IN NS ns.{origin}.\nns IN A 127.0.0.1\n"
            + "".join(f'@ 300 IN TXT "{value}"\n' for value in VERIFICATIONS))


def domains() -> list[str]:
    """Ten domains per zone: its apex and nine names below it."""
    return [name for zone in ZONES for name in (zone, *(f"c{n:02}.{zone}" for n in range(1, 10)))]


def config_text(publish: str, broken: str | None = BROKEN, overrides: dict[str, str] | None = None) -> str:
    lines = ["defaults:", "  policy: fail", "  ttl: 1", "  publish:", *(f"    {line}" for line in publish.splitlines()),
             "domains:"]
    for n, domain in enumerate(domains()):
        lines += [f"  {domain}:", "    senders:", "      - provider: mailchimp", f"      - ip4: [198.51.100.{n}]"]
        if domain == broken:
            lines.append("      - include: nosuch.flat.test")
        if overrides and domain in overrides:
            lines += ["    publish:", *(f"      {line}" for line in overrides[domain].splitlines())]
    return "\n".join(lines) + "\n"


@pytest.fixture
def server(named_factory: NamedFactory) -> NamedServer:
    zones = fixture_zones()
    zones |= {zone: zone_text(zone) for zone in ZONES}
    return named_factory(zones, updatable=ZONES)


@pytest.fixture
def key(server: NamedServer, tmp_path: Path) -> Path:
    """The push key beside the config, in keys/push.key (the config names it relatively)."""
    path = tmp_path / "keys" / "push.key"
    path.parent.mkdir()
    shutil.copy(server.tsig_key.path, path)
    path.chmod(0o600)
    return path


def publish_to(server: NamedServer, key: str = "keys/push.key") -> str:
    return f'rfc2136: "rfc2136://{server.host}:{server.port}"\ntsig_key: {key}'


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "senders.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def cron(server: NamedServer, config: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`spfbuild flatten CONFIG --state` from another directory than the config's."""
    return subprocess.run(
        [sys.executable, "-m", "spfbuild", "flatten", str(config), "--nameserver", server.nameserver,
         "--state", str(tmp_path / "state.json"), "--timeout", "2", *extra],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent)


def txt(server: NamedServer, name: str) -> dict[str, int]:
    """The TXT values at `name` on the server, each with its TTL."""
    response = dns.query.tcp(dns.message.make_query(name, "TXT"), server.host, port=server.port, timeout=2)
    return {b"".join(r.strings).decode(): rrset.ttl for rrset in response.answer if rrset.rdtype == dns.rdatatype.TXT
            for r in rrset}


def spf_at(server: NamedServer, name: str) -> list[str]:
    return [value for value in txt(server, name) if value.startswith("v=spf1")]


def errors(stderr: str) -> list[str]:
    """stderr without warnings and notes (Mailchimp's alignment advice)."""
    return [line for line in stderr.splitlines() if not line.startswith(("spfbuild: warning:", "spfbuild: note:"))]


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("spfbuild: warning:")]


def published(tmp_path: Path) -> dict[str, str]:
    state = json.loads((tmp_path / "state.json").read_text())
    return {domain: kept["published"] for domain, kept in state["domains"].items()}


def test_every_domain_but_the_broken_one_is_published_in_its_own_zone(server: NamedServer, key: Path,
                                                                       tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text(publish_to(server)))
    done = cron(server, config, tmp_path)
    assert done.returncode == 1, done.stderr
    (error,) = errors(done.stderr)
    assert BROKEN in error and "nosuch.flat.test" in error
    for domain in domains():
        if domain == BROKEN:
            assert spf_at(server, domain) == []
            continue
        (record,) = spf_at(server, domain)
        assert "ip4:198.51.100." in record
        assert f'{domain}\t"{record}"' in done.stdout.splitlines(), "emitted as published"
    zone_of = {d: next(z for z in ZONES if d.endswith(z)) for d in domains() if d != BROKEN}
    assert published(tmp_path) == {d: f"rfc2136://{server.host}:{server.port}/{z}" for d, z in zone_of.items()}


def test_site_verifications_keep_their_ttl_and_the_spf_record_takes_it(server: NamedServer, key: Path,
                                                                       tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text(publish_to(server), broken=None))
    done = cron(server, config, tmp_path)
    assert done.returncode == 0, done.stderr
    for zone in ZONES:
        records = txt(server, zone)
        assert {value: records[value] for value in VERIFICATIONS} == dict.fromkeys(VERIFICATIONS, 300)
        (spf,) = spf_at(server, zone)
        assert records[spf] == 300
        (warning,) = [line for line in warnings(done.stderr) if f" {zone}: " in line]
        assert "TTL 300" in warning and "configured 1" in warning
    assert txt(server, f"c01.{ZONES[0]}") == {spf_at(server, f"c01.{ZONES[0]}")[0]: 1}, "no other records: its TTL"
    assert len(warnings(done.stderr)) == len(ZONES), "one warning per name whose TTL was kept"


def test_a_plan_after_the_push_reports_no_change(server: NamedServer, key: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text(publish_to(server), broken=None))
    assert cron(server, config, tmp_path).returncode == 0
    again = cron(server, config, tmp_path)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    plan = cron(server, config, tmp_path, "--check")
    assert (plan.returncode, plan.stdout, plan.stderr) == (0, "", "")


@pytest.mark.parametrize("failure", ["wrong key", "server down"])
def test_one_zone_failing_leaves_the_other_zone_published(server: NamedServer, key: Path, tmp_path: Path,
                                                          failure: str) -> None:
    failing = ZONES[1]
    if failure == "wrong key":
        bad = tmp_path / "keys" / "bad.key"
        bad.write_text(key.read_text().replace(server.tsig_key.secret, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"))
        bad.chmod(0o600)
        other = publish_to(server, "keys/bad.key")
    else:
        other = 'rfc2136: "rfc2136://127.0.0.1:9"\ntsig_key: keys/push.key'
    overrides = {d: other for d in domains() if d.endswith(failing)}
    config = write_config(tmp_path, config_text(publish_to(server), broken=None, overrides=overrides))
    started = time.monotonic()
    done = cron(server, config, tmp_path)
    assert time.monotonic() - started < 30
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    lines = errors(done.stderr)
    assert sorted(line.split()[0].rstrip(":") for line in lines) == sorted(overrides), lines
    assert all("not published" in line for line in lines)
    for domain in domains():
        assert bool(spf_at(server, domain)) == (domain not in overrides), domain
    assert set(published(tmp_path)) == set(domains()) - set(overrides)


def test_push_on_the_command_line_overrides_every_domain(server: NamedServer, key: Path, tmp_path: Path) -> None:
    dead = 'rfc2136: "rfc2136://127.0.0.1:9"\ntsig_key: keys/push.key'
    config = write_config(tmp_path, config_text(dead, broken=None))
    done = cron(server, config, tmp_path, "--push", f"rfc2136://{server.host}:{server.port}", "--tsig-key", str(key))
    assert done.returncode == 0, done.stderr
    assert all(spf_at(server, domain) for domain in domains())


def test_an_unreadable_key_file_is_a_usage_error_naming_the_config_line(server: NamedServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text(publish_to(server, "keys/missing.key"), broken=None))
    done = cron(server, config, tmp_path)
    assert (done.returncode, done.stdout) == (64, "")
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"spfbuild: error: {config}:5:5: publish.tsig_key: ") and "missing.key" in line, line
    assert not (tmp_path / "state.json").exists()


def test_the_publishing_benchmark_sends_one_update_per_zone() -> None:
    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_publish.py"
    done = subprocess.run([sys.executable, str(bench), "--quick", "--json"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    (figures,) = json.loads(done.stdout)
    assert (figures["domains"], figures["zones"], figures["updates"]) == (20, 2, 2)
    assert figures["exit_codes"] == [0, 0, 0]


def test_two_keys_for_one_zone_both_publish(named_factory: NamedFactory, tmp_path: Path) -> None:
    # Two UPDATEs for one zone, each guarded by the SOA the other changes: they go one after the other.
    zones = fixture_zones()
    zones |= {zone: zone_text(zone) for zone in ZONES}
    server = named_factory(zones, updatable=ZONES, other_keys=["spfbuild-second-key"])
    (tmp_path / "keys").mkdir()
    keys = {"push.key": server.tsig_key.path, "second.key": server.other_keys["spfbuild-second-key"].path}
    for name, source in keys.items():
        shutil.copy(source, tmp_path / "keys" / name)
        (tmp_path / "keys" / name).chmod(0o600)
    second = {d: publish_to(server, "keys/second.key") for d in domains()[1::2]}
    config = write_config(tmp_path, config_text(publish_to(server), broken=None, overrides=second))
    done = cron(server, config, tmp_path)
    assert done.returncode == 0, done.stderr
    assert all(spf_at(server, domain) for domain in domains())
    assert len(updates_logged(server)) == 2 * len(ZONES), "one UPDATE per zone and key"


def updates_logged(server: NamedServer) -> set[str]:
    """The UPDATE messages named logged (one connection each; it logs every record it changes)."""
    return set(re.findall(r"client @\S+ (\S+) \S+: updating zone", server.log_path.read_text(errors="replace")))


def test_publish_without_state_says_that_nothing_was_published(server: NamedServer, key: Path,
                                                               tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text(publish_to(server), broken=None))
    done = subprocess.run([sys.executable, "-m", "spfbuild", "flatten", str(config), "--nameserver",
                           server.nameserver, "--timeout", "2"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "spfbuild: note: publish: takes effect in cron mode (flatten --state FILE); nothing was published" \
        in done.stderr.splitlines()
    assert all(spf_at(server, domain) == [] for domain in domains())
