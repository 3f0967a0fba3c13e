"""Unattended flattening against a real BIND 9: state, change reports, guards and RFC 2136 publishing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest
import yaml
from support.named import FIXTURE_ZONES, NamedFactory, NamedServer, fixture_zones

from spfbuild.state import locked

CUSTOMER = """\
$TTL 300
@       IN SOA  ns.customer.test. hostmaster.customer.test. ( 1 3600 900 604800 300 )
@       IN NS   ns.customer.test.
ns      IN A    127.0.0.1
@       IN TXT  "google-site-verification=abc123"
@       IN TXT  "v=spf1 -all"
"""

MAILCHIMP = (FIXTURE_ZONES / "mcsv.net.zone").read_text()

CONFIG = """\
domain: customer.test
policy: fail
ttl: 1
senders:
  - provider: mailchimp
  - provider: google
flatten:
  max_lookups: 1                  # Google's tree costs 4: everything is flattened, with one chained record
"""


def customer_server(named_factory: NamedFactory, customer: str = CUSTOMER) -> NamedServer:
    """BIND serving the fixture zones and `customer` as customer.test, updatable with its key."""
    zones = fixture_zones()
    zones["customer.test"] = customer
    server = named_factory(zones, updatable=["customer.test"])
    server.tsig_key.path.chmod(0o600)
    return server


@pytest.fixture
def server(named_factory: NamedFactory) -> NamedServer:
    return customer_server(named_factory)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "senders.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def spfbuild(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfbuild", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def cron(server: NamedServer, config: Path, tmp_path: Path, *extra: str | Path, key: Path | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                    "--push", f"rfc2136://{server.host}:{server.port}/customer.test",
                    "--tsig-key", key or server.tsig_key.path, *extra, timeout=timeout)


def txt(server: NamedServer, name: str) -> list[str]:
    response = dns.query.tcp(dns.message.make_query(name, "TXT"), server.host, port=server.port, timeout=2)
    return sorted(b"".join(r.strings).decode() for rrset in response.answer if rrset.rdtype == dns.rdatatype.TXT
                  for r in rrset)


def spf_at(server: NamedServer, name: str) -> list[str]:
    return [v for v in txt(server, name) if v.startswith("v=spf1")]


def test_first_push_publishes_and_verifies(server: NamedServer, config: Path, tmp_path: Path) -> None:
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "customer.test: first run" in proc.stdout
    (main,) = spf_at(server, "customer.test")
    assert "google-site-verification=abc123" in txt(server, "customer.test")
    state = json.loads((tmp_path / "state.json").read_text())
    records = state["domains"]["customer.test"]["records"]
    assert records[0]["value"] == main
    assert len(records) >= 2, "the config needs a chained record"
    for chained in records[1:]:
        assert chained["name"].startswith("_spf-")
        assert f"include:{chained['name']}" in main
        assert spf_at(server, chained["name"]) == [chained["value"]]


def test_unchanged_run_prints_nothing(server: NamedServer, config: Path, tmp_path: Path) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    proc = cron(server, config, tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    check = cron(server, config, tmp_path, "--check")
    assert (check.returncode, check.stdout, check.stderr) == (0, "", "")


def test_a_plan_without_push_after_a_push_reports_no_change(server: NamedServer, config: Path,
                                                           tmp_path: Path) -> None:
    # The plan names chained records as the push did (_spf-<hash>), so nothing reads as changed.
    assert cron(server, config, tmp_path).returncode == 0
    plan = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                    "--check", "--format", "zone")
    assert (plan.returncode, plan.stdout, plan.stderr) == (0, "", "")


def test_file_output_under_state_uses_the_names_a_push_would_publish(server: NamedServer, config: Path,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "spf.zone"
    done = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                    "--format", "zone", "--output", out)
    assert done.returncode == 0, done.stderr
    chained = [line.split()[0] for line in out.read_text().splitlines() if line.startswith("_spf")]
    assert chained and all(name.startswith("_spf-") for name in chained)


def test_provider_change_publishes_the_difference_and_retires_old_chains(
    server: NamedServer, config: Path, tmp_path: Path
) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    before = json.loads((tmp_path / "state.json").read_text())["domains"]["customer.test"]["records"]
    server.replace_zone("mcsv.net", MAILCHIMP.replace("205.201.128.0/20", "205.201.128.0/20 ip4:203.0.113.0/24"))
    plan = cron(server, config, tmp_path, "--check")
    assert plan.returncode == 2
    assert "  + 203.0.113.0/24 via servers.mcsv.net" in plan.stdout
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "  + 203.0.113.0/24 via servers.mcsv.net" in proc.stdout
    (main,) = spf_at(server, "customer.test")
    after = json.loads((tmp_path / "state.json").read_text())["domains"]["customer.test"]
    assert after["records"][0]["value"] == main
    old_names = {r["name"] for r in before[1:]} - {r["name"] for r in after["records"][1:]}
    assert old_names, "a changed chain gets a new content-addressed name"
    for name in old_names:
        assert spf_at(server, name), "old chains stay until their TTL has passed"
    time.sleep(1.2)  # the config's TTL is 1 s
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in old_names:
        assert spf_at(server, name) == []
        assert f"deleted {name}" in proc.stdout


def test_wrong_key_publishes_nothing_and_keeps_state(server: NamedServer, config: Path, tmp_path: Path) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    state_before = (tmp_path / "state.json").read_bytes()
    server.replace_zone("mcsv.net", MAILCHIMP.replace("205.201.128.0/20", "205.201.128.0/20 ip4:203.0.113.0/24"))
    published = spf_at(server, "customer.test")
    bad = tmp_path / "bad.key"
    bad.write_text(server.tsig_key.path.read_text().replace(server.tsig_key.secret, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"))
    bad.chmod(0o600)
    proc = cron(server, config, tmp_path, key=bad)
    assert proc.returncode == 3, "TSIG refused is a network failure: nothing was changed"
    assert "TSIG" in proc.stderr or "NOTAUTH" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "state.json").read_bytes() == state_before
    assert spf_at(server, "customer.test") == published


def test_unreachable_server_fails_fast_and_keeps_state(server: NamedServer, config: Path, tmp_path: Path) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    state_before = (tmp_path / "state.json").read_bytes()
    server.replace_zone("mcsv.net", MAILCHIMP.replace("205.201.128.0/20", "205.201.128.0/20 ip4:203.0.113.0/24"))
    started = time.monotonic()
    proc = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                    "--push", "rfc2136://127.0.0.1:9/customer.test", "--tsig-key", server.tsig_key.path,
                    "--timeout", "2")
    assert time.monotonic() - started < 30
    assert proc.returncode == 3, "an unreachable push server is a network failure"
    assert "customer.test" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "state.json").read_bytes() == state_before


def test_stopped_dns_is_a_temperror_and_changes_nothing(server: NamedServer, config: Path, tmp_path: Path) -> None:
    output = tmp_path / "spf.zone"
    first = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                     "--output", output, "--format", "zone")
    assert first.returncode == 0, first.stderr
    state_before, output_before = (tmp_path / "state.json").read_bytes(), output.read_bytes()
    server.stop()
    proc = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                    "--output", output, "--format", "zone", "--timeout", "1")
    assert proc.returncode == 3, "temperror only: a DNS failure"
    assert "temperror" in proc.stderr and server.nameserver in proc.stderr
    assert (tmp_path / "state.json").read_bytes() == state_before
    assert output.read_bytes() == output_before


def test_shrinking_source_is_refused_unless_forced(server: NamedServer, config: Path, tmp_path: Path) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    state_before = (tmp_path / "state.json").read_bytes()
    server.replace_zone("mcsv.net", MAILCHIMP.replace("ip4:198.2.128.0/18", ""))
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 1
    assert "refused (use --force to accept): include:servers.mcsv.net lost" in proc.stderr
    assert (tmp_path / "state.json").read_bytes() == state_before
    assert cron(server, config, tmp_path, "--check").returncode == 1
    forced = cron(server, config, tmp_path, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "  - 198.2.128.0/18 (servers.mcsv.net removed it)" in forced.stdout


def test_vanished_source_is_an_error(server: NamedServer, config: Path, tmp_path: Path) -> None:
    assert cron(server, config, tmp_path).returncode == 0
    kept_lines = [line for line in MAILCHIMP.splitlines() if not line.startswith("servers")]
    server.replace_zone("mcsv.net", "\n".join(kept_lines) + "\n")
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 1
    assert "servers.mcsv.net has no SPF record" in proc.stderr


def test_a_second_run_waits_then_gives_up_on_the_lock(server: NamedServer, config: Path, tmp_path: Path) -> None:
    with locked(tmp_path / "state.json"):
        proc = cron(server, config, tmp_path)
    assert proc.returncode == 1
    assert "another spfbuild flatten run holds" in proc.stderr


def test_sigkill_while_writing_leaves_the_old_output_whole(tmp_path: Path) -> None:
    target = tmp_path / "spf.zone"
    target.write_text("old\n")
    code = (
        "import sys; from pathlib import Path; from spfbuild.files import write_atomic\n"
        "print('ready', flush=True)\n"
        "write_atomic(Path(sys.argv[1]), 'x' * 300_000_000)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    content = target.read_bytes()
    assert content == b"old\n" or content == b"x" * 300_000_000


def test_one_domain_failing_does_not_stop_the_others(server: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "multi.yaml"
    config.write_text(
        "defaults:\n  policy: fail\n  ttl: 1\ndomains:\n"
        "  customer.test:\n    senders:\n      - provider: mailchimp\n"
        "  broken.customer.test:\n    senders:\n      - include: missing.flat.test\n",
        encoding="utf-8",
    )
    proc = cron(server, config, tmp_path)
    assert proc.returncode == 1
    assert "broken.customer.test: missing.flat.test has no SPF record" in proc.stderr
    assert spf_at(server, "customer.test") == ["v=spf1 include:servers.mcsv.net -all"]
    assert spf_at(server, "broken.customer.test") == []
    state = json.loads((tmp_path / "state.json").read_text())
    assert list(state["domains"]) == ["customer.test"]


def test_output_keeps_the_last_good_records_of_a_failing_domain(server: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "multi.yaml"
    good = "defaults:\n  policy: fail\ndomains:\n  a.example.test:\n    senders:\n      - include: dup1.flat.test\n" \
           "  b.example.test:\n    senders:\n      - include: dup2.flat.test\n"
    config.write_text(good, encoding="utf-8")
    output = tmp_path / "spf.zone"
    args = ("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json", "--output",
            output, "--format", "zone")
    assert spfbuild(*args).returncode == 0
    config.write_text(good.replace("dup2.flat.test", "missing.flat.test").replace("dup1.flat.test", "soft.flat.test"),
                      encoding="utf-8")
    proc = spfbuild(*args)
    assert proc.returncode == 1
    text = output.read_text()
    assert 'a.example.test.\t3600\tIN\tTXT\t"v=spf1 include:soft.flat.test -all"' in text
    assert 'b.example.test.\t3600\tIN\tTXT\t"v=spf1 include:dup2.flat.test -all"' in text


def test_a_retired_chain_stays_in_the_octodns_output_until_its_ttl_has_passed(
    server: NamedServer, config: Path, tmp_path: Path
) -> None:
    # octodns-sync deletes what its YAML no longer holds: a chain that caches may still follow
    # (its TTL has not passed since the main record stopped naming it) must stay in the file.
    out = tmp_path / "zones"
    args = ("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
            "--format", "octodns", "--output", f"{out}/")

    def chains() -> set[str]:
        zone = yaml.safe_load((out / "customer.test.yaml").read_text())
        return {name for name in zone if name.startswith("_spf-")}

    assert spfbuild(*args).returncode == 0
    first = chains()
    assert first, "the config needs a chained record"
    server.replace_zone("mcsv.net", MAILCHIMP.replace("205.201.128.0/20", "205.201.128.0/20 ip4:203.0.113.0/24"))
    changed = spfbuild(*args)
    assert changed.returncode == 0, changed.stderr
    second = chains()
    assert first < second, "the new chain beside the retired one"
    time.sleep(1.2)  # the config's TTL is 1 s
    later = spfbuild(*args)
    assert later.returncode == 0, later.stderr
    assert chains() == second - first
    assert later.stdout.startswith("customer.test: expired chained records leave the output\n")
    assert all(f"  dropped {name}.customer.test (its TTL has passed)" in later.stdout for name in first)
    quiet = spfbuild(*args)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
