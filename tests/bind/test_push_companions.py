"""Publishing the DKIM and DMARC records beside the SPF record with RFC 2136 + TSIG to a real
BIND 9: only the records spfbuild manages are replaced (the other TXT records at `_dmarc` stay), a
CNAME that would clash with the records at its name is refused and nothing of the domain is
published, an unchanged run prints nothing, a companion the config drops is deleted only when
spfbuild created it, `--check` reports a companion change, and macro-compiled mode publishes them too."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import dns.update
import pytest
from support.named import NamedFactory, NamedServer, fixture_zones

from bind.test_cron import cron, customer_server, spf_at

CUSTOMER = """\
$TTL 300
@       IN SOA  ns.customer.test. hostmaster.customer.test. ( 1 3600 900 604800 300 )
@       IN NS   ns.customer.test.
ns      IN A    127.0.0.1
@       IN TXT  "v=spf1 -all"
_dmarc  IN TXT  "v=DMARC1; p=none"
_dmarc  IN TXT  "dmarc-reporter-verification=kept"
"""
CONFIG = """\
domain: customer.test
policy: fail
ttl: 1
senders:
  - provider: mailchimp
    dkim: true
  - ip4: [192.0.2.7]
dmarc:
  policy: quarantine
  rua: [mailto:dmarc@customer.test]
"""
DMARC = "v=DMARC1; p=quarantine; rua=mailto:dmarc@customer.test"
VERIFICATION = "dmarc-reporter-verification=kept"
DKIM = "k1._domainkey.customer.test"
KEY = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"


def make_server(named_factory: NamedFactory, customer: str = CUSTOMER) -> NamedServer:
    return customer_server(named_factory, customer)


@pytest.fixture
def server(named_factory: NamedFactory) -> NamedServer:
    return make_server(named_factory)


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "senders.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def txt(server: NamedServer, name: str) -> list[str]:
    """The TXT records at `name` itself (not at a CNAME's target)."""
    response = dns.query.tcp(dns.message.make_query(name, "TXT"), server.host, port=server.port, timeout=2)
    return sorted(b"".join(r.strings).decode() for rrset in response.answer
                  if rrset.rdtype == dns.rdatatype.TXT and str(rrset.name) == name + "." for r in rrset)


def cname(server: NamedServer, name: str) -> str | None:
    response = dns.query.tcp(dns.message.make_query(name, "CNAME"), server.host, port=server.port, timeout=2)
    targets = [str(r.target) for rrset in response.answer if rrset.rdtype == dns.rdatatype.CNAME for r in rrset]
    return targets[0] if targets else None


def edit(server: NamedServer, *changes: tuple[str, str, str, str]) -> None:
    """Change the zone behind spfbuild's back: (action, name, type, rdata) with action add or delete."""
    update = dns.update.UpdateMessage("customer.test", keyring=server.tsig_key.keyring())
    for action, name, rdtype, rdata in changes:
        if action == "add":
            update.add(name + ".", 300, rdtype, rdata)
        else:
            update.delete(name + ".", rdtype, rdata) if rdata else update.delete(name + ".", rdtype)
    response = dns.query.tcp(update, server.host, port=server.port, timeout=2)
    assert response.rcode() == 0


def test_push_publishes_the_cname_and_replaces_only_the_dmarc_record(server: NamedServer, tmp_path: Path) -> None:
    done = cron(server, write(tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    assert cname(server, DKIM) == "dkim.mcsv.net."
    assert txt(server, "_dmarc.customer.test") == sorted([DMARC, VERIFICATION])
    assert spf_at(server, "customer.test")[0].startswith("v=spf1 ip4:")
    assert f"  companion {DKIM} CNAME: dkim.mcsv.net." in done.stdout.splitlines()
    assert f"  companion _dmarc.customer.test TXT: {DMARC}" in done.stdout.splitlines()
    state = json.loads((tmp_path / "state.json").read_text())["domains"]["customer.test"]
    assert {(c["name"], c["type"], c["created"]) for c in state["companions"]} == {
        (DKIM, "CNAME", True), ("_dmarc.customer.test", "TXT", True)}


def test_a_second_run_prints_nothing_and_a_plan_finds_nothing(server: NamedServer, tmp_path: Path) -> None:
    config = write(tmp_path)
    assert cron(server, config, tmp_path).returncode == 0
    again = cron(server, config, tmp_path)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    check = cron(server, config, tmp_path, "--check")
    assert (check.returncode, check.stdout, check.stderr) == (0, "", "")


def test_a_cname_that_would_clash_is_refused_and_nothing_is_published(named_factory: NamedFactory,
                                                                     tmp_path: Path) -> None:
    server = make_server(named_factory, CUSTOMER + f'k1._domainkey IN TXT "{KEY}"\n')
    done = cron(server, write(tmp_path), tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    (line,) = [line for line in done.stderr.splitlines() if "note:" not in line]
    assert line == (f"customer.test: {DKIM}: refused: the CNAME to dkim.mcsv.net. must be the only record at its "
                    f'name, and the zone holds TXT "{KEY[:60]}" there; nothing for customer.test was published')
    assert spf_at(server, "customer.test") == ["v=spf1 -all"]
    assert txt(server, "_dmarc.customer.test") == sorted(["v=DMARC1; p=none", VERIFICATION])
    assert txt(server, DKIM) == [KEY]
    assert not (tmp_path / "state.json").exists() or "customer.test" not in (tmp_path / "state.json").read_text()


def test_a_dmarc_record_cannot_join_a_cname_at_dmarc(named_factory: NamedFactory, tmp_path: Path) -> None:
    customer = CUSTOMER.replace('_dmarc  IN TXT  "v=DMARC1; p=none"\n_dmarc  IN TXT  '
                                '"dmarc-reporter-verification=kept"\n', "_dmarc IN CNAME dmarc.example.net.\n")
    server = make_server(named_factory, customer)
    done = cron(server, write(tmp_path), tmp_path)
    assert done.returncode == 1
    assert ("customer.test: _dmarc.customer.test: refused: the zone holds a CNAME to dmarc.example.net. there, and "
            "no other record may join a CNAME; nothing for customer.test was published") in done.stderr
    assert cname(server, "_dmarc.customer.test") == "dmarc.example.net."
    assert spf_at(server, "customer.test") == ["v=spf1 -all"]


def test_a_companion_dropped_from_the_config_is_deleted_on_a_later_run(server: NamedServer,
                                                                       tmp_path: Path) -> None:
    assert cron(server, write(tmp_path), tmp_path).returncode == 0
    done = cron(server, write(tmp_path, CONFIG.replace("    dkim: true\n", "")), tmp_path)
    assert done.returncode == 0, done.stderr
    assert cname(server, DKIM) is None
    assert f"  companion {DKIM} CNAME dropped from the config" in done.stdout.splitlines()
    assert txt(server, "_dmarc.customer.test") == sorted([DMARC, VERIFICATION])
    state = json.loads((tmp_path / "state.json").read_text())["domains"]["customer.test"]
    assert [c["name"] for c in state["companions"]] == ["_dmarc.customer.test"] and state["dropped"] == []


def test_a_companion_dropped_while_not_pushing_is_deleted_by_the_next_push(server: NamedServer,
                                                                           tmp_path: Path) -> None:
    from bind.test_cron import spfbuild

    config = write(tmp_path)
    assert cron(server, config, tmp_path).returncode == 0
    config = write(tmp_path, CONFIG.replace("    dkim: true\n", ""))
    plan = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json")
    assert plan.returncode == 0, plan.stderr
    assert cname(server, DKIM) == "dkim.mcsv.net."  # nothing was pushed
    done = cron(server, config, tmp_path)
    assert done.returncode == 0, done.stderr
    assert cname(server, DKIM) is None
    assert f"  deleted companion {DKIM} CNAME" in done.stdout.splitlines()


def test_a_record_spfbuild_did_not_create_stays_when_the_config_drops_it(named_factory: NamedFactory,
                                                                         tmp_path: Path) -> None:
    # The DMARC record was published by hand, exactly as the config says: spfbuild adopts it.
    server = make_server(named_factory, CUSTOMER.replace('"v=DMARC1; p=none"', f'"{DMARC}"'))
    assert cron(server, write(tmp_path), tmp_path).returncode == 0
    state = json.loads((tmp_path / "state.json").read_text())["domains"]["customer.test"]
    assert {c["name"]: c["created"] for c in state["companions"]} == {DKIM: True, "_dmarc.customer.test": False}
    without = CONFIG.split("dmarc:")[0]
    done = cron(server, write(tmp_path, without), tmp_path)
    assert done.returncode == 0, done.stderr
    assert txt(server, "_dmarc.customer.test") == sorted([DMARC, VERIFICATION])


def test_check_reports_a_companion_change_and_publishes_nothing(server: NamedServer, tmp_path: Path) -> None:
    assert cron(server, write(tmp_path), tmp_path).returncode == 0
    changed = write(tmp_path, CONFIG.replace("policy: quarantine", "policy: reject"))
    check = cron(server, changed, tmp_path, "--check")
    assert check.returncode == 2, check.stderr
    assert ("  companion _dmarc.customer.test TXT: v=DMARC1; p=reject; rua=mailto:dmarc@customer.test"
            in check.stdout.splitlines())
    assert txt(server, "_dmarc.customer.test") == sorted([DMARC, VERIFICATION])


def test_check_reports_a_companion_changed_on_the_server(server: NamedServer, tmp_path: Path) -> None:
    config = write(tmp_path)
    assert cron(server, config, tmp_path).returncode == 0
    edit(server, ("delete", DKIM, "CNAME", ""))
    check = cron(server, config, tmp_path, "--check")
    assert (check.returncode, check.stdout) == (2, "customer.test: the published records differ from the intended "
                                                   "ones\n")
    done = cron(server, config, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["customer.test: republished: the live records differed from the state",
                                            f"  companion {DKIM} CNAME: dkim.mcsv.net."]
    assert cname(server, DKIM) == "dkim.mcsv.net."


def test_a_txt_key_spfbuild_published_gives_way_to_a_cname(server: NamedServer, tmp_path: Path) -> None:
    key = base64.b64encode(b"0\x81\x9f0\r\x06\t*\x86H\x86\xf7\r\x01\x01\x01\x05\x00" + bytes(120)).decode()
    as_key = CONFIG.replace("    dkim: true\n", f"    dkim: {{selector: k1, key: {key}}}\n")
    assert cron(server, write(tmp_path, as_key), tmp_path).returncode == 0
    assert txt(server, DKIM) == [f"v=DKIM1; k=rsa; p={key}"]
    done = cron(server, write(tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    assert (cname(server, DKIM), txt(server, DKIM)) == ("dkim.mcsv.net.", [])


def test_macro_compiled_mode_publishes_the_companions(server: NamedServer, tmp_path: Path) -> None:
    done = cron(server, write(tmp_path, CONFIG + "flatten:\n  mode: macro\n"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "compiled zone" in done.stdout
    assert cname(server, DKIM) == "dkim.mcsv.net."
    assert txt(server, "_dmarc.customer.test") == sorted([DMARC, VERIFICATION])


def test_the_dmarc_record_takes_the_ttl_of_the_other_txt_records_at_its_name(server: NamedServer,
                                                                              tmp_path: Path) -> None:
    # One TTL per RRset (RFC 2181 5.2): the config's ttl 1 would change the verification record's too.
    done = cron(server, write(tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    response = dns.query.tcp(dns.message.make_query("_dmarc.customer.test", "TXT"), server.host, port=server.port,
                             timeout=2)
    (rrset,) = response.answer
    assert rrset.ttl == 300
    assert ("spfbuild: warning: customer.test: _dmarc.customer.test: published with TTL 300, that of the other TXT "
            "records at the name (one TTL per RRset), not 1") in done.stderr.splitlines()
    assert cron(server, write(tmp_path), tmp_path).stdout == ""


def test_per_zone_publishing_carries_each_domains_companions_and_a_clash_fails_that_domain_alone(
        named_factory: NamedFactory, tmp_path: Path) -> None:
    zones = fixture_zones()
    for origin in ("one.test", "two.test"):
        zones[origin] = (f"$TTL 300\n@ IN SOA ns.{origin}. hostmaster.{origin}. ( 1 3600 900 604800 300 )\n"
                         f"@ IN NS ns.{origin}.\nns IN A 127.0.0.1\n")
    zones["one.test"] += f'k1._domainkey.c01 IN TXT "{KEY}"\n'  # c01.one.test's CNAME would clash
    server = named_factory(zones, updatable=["one.test", "two.test"])
    server.tsig_key.path.chmod(0o600)
    domains = ["one.test", "c01.one.test", "two.test"]
    lines = ["defaults:", "  policy: fail", "  ttl: 1", "  dmarc: {policy: none}", "  publish:",
             f'    rfc2136: "rfc2136://{server.host}:{server.port}"', f"    tsig_key: {server.tsig_key.path}",
             "domains:"]
    for domain in domains:
        lines += [f"  {domain}:", "    senders:", "      - provider: mailchimp", "        dkim: true"]
    config = write(tmp_path, "\n".join(lines) + "\n")
    from bind.test_cron import spfbuild

    def run() -> subprocess.CompletedProcess[str]:
        return spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json")

    done = run()
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if "spfbuild: " not in line] == [
        "c01.one.test: k1._domainkey.c01.one.test: refused: the CNAME to dkim.mcsv.net. must be the only record at "
        f'its name, and the zone holds TXT "{KEY[:60]}" there; nothing for c01.one.test was published']
    for domain in ("one.test", "two.test"):
        assert cname(server, f"k1._domainkey.{domain}") == "dkim.mcsv.net."
        assert txt(server, f"_dmarc.{domain}") == ["v=DMARC1; p=none"]
    assert txt(server, "_dmarc.c01.one.test") == [] and spf_at(server, "c01.one.test") == []
    again = run()
    assert again.returncode == 1 and again.stdout == ""  # the two published domains are unchanged
