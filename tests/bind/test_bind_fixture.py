"""The BIND 9 test fixture behaves like the real authoritative servers it stands in for."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import time
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest
from support.named import FIXTURE_ZONES, NamedFactory, NamedServer, NamedStartError, find_tool

ZONES_DIR = FIXTURE_ZONES

GOOGLE_SPF = (
    "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com include:_netblocks3.google.com ~all"
)
MIMECAST_US = (
    "v=spf1 ip4:207.211.31.0/25 ip4:205.139.110.0/24 ip4:216.205.24.0/24 ip4:170.10.129.0/24 "
    "ip4:63.128.21.0/24 ip4:170.10.133.0/24 ip4:185.58.84.93/32 ip4:207.211.41.113/32 "
    "ip4:207.211.30.64/26 ip4:207.211.30.128/25 ip4:216.145.221.0/24 ip4:170.10.128.0/24 "
    "ip4:170.10.132.56/29 ip4:170.10.132.64/29 ~all"
)

UPDATE_ZONE = """\
$TTL 300
@       IN SOA  ns.customer.test. hostmaster.customer.test. ( 1 3600 900 604800 300 )
@       IN NS   ns.customer.test.
ns      IN A    127.0.0.1
@       IN TXT  "v=spf1 include:_spf.customer.test -all"
_spf    IN TXT  "v=spf1 ip4:192.0.2.0/24 -all"
"""


def txt_strings(server: NamedServer, name: str, *, tcp: bool = False) -> list[list[bytes]]:
    """The character-strings of each TXT record at *name*, as served."""
    response = server.query(name, "TXT", tcp=tcp)
    assert response.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(response.rcode())
    return [list(rdata.strings) for rrset in response.answer for rdata in rrset]


def spf_text(server: NamedServer, name: str) -> str:
    """The single SPF record at *name*, its strings joined as RFC 7208 3.3 says (no separator)."""
    records = [b"".join(s).decode() for s in txt_strings(server, name)]
    spf = [r for r in records if r.startswith("v=spf1 ") or r == "v=spf1"]
    assert len(spf) == 1, records
    return spf[0]


def signed_update(
    server: NamedServer,
    zone: str,
    keyring: dict[dns.name.Name, dns.tsig.Key] | None = None,
    keyname: str | None = None,
) -> dns.update.UpdateMessage:
    """An update for *zone* signed with the server's key (or the given one)."""
    key = server.tsig_key
    return dns.update.UpdateMessage(
        zone,
        keyring=key.keyring() if keyring is None else keyring,
        keyname=dns.name.from_text(keyname or key.name),
        keyalgorithm=key.algorithm,
    )


# --------------------------------------------------------------- the session server


def test_nameserver_is_loopback_host_colon_port(named: NamedServer) -> None:
    assert named.host == "127.0.0.1"
    assert named.nameserver == f"127.0.0.1:{named.port}"
    assert 1024 < named.port < 65536


def test_serves_every_fixture_zone_with_soa_and_ns(named: NamedServer) -> None:
    origins = sorted(p.name.removesuffix(".zone") for p in ZONES_DIR.glob("*.zone"))
    assert sorted(named.zones) == origins
    for origin in origins:
        soa = named.query(origin, "SOA")
        assert soa.rcode() == dns.rcode.NOERROR
        assert soa.flags & dns.flags.AA, f"{origin}: answer is not authoritative"
        ns = named.query(origin, "NS")
        assert [rr.target.to_text() for rrset in ns.answer for rr in rrset] == [f"ns.{origin}."]


def test_answers_txt_for_google_spf_over_udp(named: NamedServer) -> None:
    assert spf_text(named, "_spf.google.com") == GOOGLE_SPF


def test_tcp_answer_equals_udp_answer(named: NamedServer) -> None:
    assert txt_strings(named, "_spf.google.com", tcp=True) == txt_strings(named, "_spf.google.com")


def test_google_tree_is_modelled_three_levels_deep(named: NamedServer) -> None:
    assert spf_text(named, "google.com") == "v=spf1 include:_spf.google.com ~all"
    assert spf_text(named, "_netblocks.google.com").count("ip4:") == 11
    assert spf_text(named, "_netblocks2.google.com").count("ip6:") == 6
    assert spf_text(named, "_netblocks3.google.com").count("ip4:") == 10


def test_long_record_is_split_into_strings_of_at_most_255_bytes(named: NamedServer) -> None:
    (strings,) = txt_strings(named, "us._netblocks.mimecast.com")
    assert len(strings) == 2
    assert all(len(s) <= 255 for s in strings)
    assert b"".join(strings).decode() == MIMECAST_US


def test_split_in_the_middle_of_a_term_reassembles_without_separator(named: NamedServer) -> None:
    (strings,) = txt_strings(named, "flat.example.test")
    assert len(strings[0]) == 255
    joined = b"".join(strings).decode()
    assert "ip4:172.217.32.0/20" in joined
    assert " ".join(s.decode() for s in strings) != joined


def test_every_fixture_txt_string_fits_in_255_bytes(named: NamedServer) -> None:
    for name in ("spf.protection.outlook.com", "_netblocks.mimecast.com", "sendgrid.net", "amazonses.com"):
        for strings in txt_strings(named, name):
            assert all(len(s) <= 255 for s in strings), name


def test_spf_record_sits_among_other_txt_records(named: NamedServer) -> None:
    assert len(txt_strings(named, "amazonses.com")) == 4
    assert spf_text(named, "amazonses.com").endswith(" -all")


def test_missing_name_is_nxdomain(named: NamedServer) -> None:
    response = named.query("no-such-name.google.com", "TXT")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA


def test_existing_name_without_txt_is_nodata(named: NamedServer) -> None:
    response = named.query("mail.example.test", "TXT")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer == []


def test_zone_not_served_is_refused(named: NamedServer) -> None:
    assert named.query("example.com", "TXT").rcode() == dns.rcode.REFUSED


def test_session_server_refuses_dynamic_updates(named: NamedServer) -> None:
    update = signed_update(named, "example.test")
    update.add("evil", 300, "TXT", '"v=spf1 +all"')
    response = dns.query.tcp(update, named.host, port=named.port, timeout=2)
    assert response.rcode() == dns.rcode.REFUSED


# ------------------------------------------------------------------ dynamic update


def test_tsig_signed_update_is_accepted_and_visible(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE}, updatable=["customer.test"])
    update = signed_update(server, "customer.test")
    update.replace("_spf", 300, "TXT", '"v=spf1 ip4:198.51.100.0/24 -all"')

    response = dns.query.tcp(update, server.host, port=server.port, timeout=2)

    assert response.rcode() == dns.rcode.NOERROR
    assert spf_text(server, "_spf.customer.test") == "v=spf1 ip4:198.51.100.0/24 -all"
    assert server.journal_file("customer.test").exists()


def test_update_with_wrong_secret_is_refused(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE}, updatable=["customer.test"])
    key = server.tsig_key
    wrong = dns.tsigkeyring.from_text({key.name: (key.algorithm, base64.b64encode(os.urandom(32)).decode())})
    update = signed_update(server, "customer.test", keyring=wrong)
    update.replace("_spf", 300, "TXT", '"v=spf1 +all"')

    with pytest.raises(dns.tsig.PeerBadSignature):
        dns.query.tcp(update, server.host, port=server.port, timeout=2)

    assert spf_text(server, "_spf.customer.test") == "v=spf1 ip4:192.0.2.0/24 -all"


def test_update_with_unknown_key_name_is_refused(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE}, updatable=["customer.test"])
    key = server.tsig_key
    stranger = dns.tsigkeyring.from_text({"stranger-key": (key.algorithm, key.secret)})
    update = signed_update(server, "customer.test", keyring=stranger, keyname="stranger-key")
    update.replace("_spf", 300, "TXT", '"v=spf1 +all"')

    with pytest.raises(dns.tsig.PeerBadKey):
        dns.query.tcp(update, server.host, port=server.port, timeout=2)

    assert spf_text(server, "_spf.customer.test") == "v=spf1 ip4:192.0.2.0/24 -all"


def test_unsigned_update_is_refused(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE}, updatable=["customer.test"])
    update = dns.update.UpdateMessage("customer.test")
    update.replace("_spf", 300, "TXT", '"v=spf1 +all"')

    response = dns.query.tcp(update, server.host, port=server.port, timeout=2)

    assert response.rcode() == dns.rcode.REFUSED
    assert spf_text(server, "_spf.customer.test") == "v=spf1 ip4:192.0.2.0/24 -all"


def test_signed_update_to_a_zone_not_marked_updatable_is_refused(named_factory: NamedFactory) -> None:
    server = named_factory(
        {"customer.test": UPDATE_ZONE, "other.test": UPDATE_ZONE.replace("customer", "other")},
        updatable=["customer.test"],
    )
    update = signed_update(server, "other.test")
    update.replace("_spf", 300, "TXT", '"v=spf1 +all"')

    response = dns.query.tcp(update, server.host, port=server.port, timeout=2)

    assert response.rcode() == dns.rcode.REFUSED


def test_key_file_is_in_tsig_keygen_format(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE}, updatable=["customer.test"])
    key = server.tsig_key
    assert key.algorithm == "hmac-sha256"
    assert len(base64.b64decode(key.secret)) == 32
    assert key.path.parent == server.workdir
    assert key.path.read_text() == (
        f'key "{key.name}" {{\n\talgorithm hmac-sha256;\n\tsecret "{key.secret}";\n}};\n'
    )
    assert f'include "{key.path}";' in server.conf_path.read_text()


def bind_tool(name: str, package: str) -> str:
    """The path of a BIND tool; with CI=true (which installs it) its absence fails, never skips."""
    found = find_tool(name)
    if found is None:
        message = f"{name} ({package}) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return found


def test_key_file_works_with_nsupdate(named_factory: NamedFactory) -> None:
    nsupdate = bind_tool("nsupdate", "bind9-dnsutils")
    server = named_factory({"customer.test": UPDATE_ZONE}, updatable=["customer.test"])
    script = (
        f"server {server.host} {server.port}\nzone customer.test\n"
        'update add nsupdate.customer.test 300 TXT "v=spf1 -all"\nsend\n'
    )
    result = subprocess.run(
        [nsupdate, "-k", str(server.tsig_key.path)], input=script, capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert spf_text(server, "nsupdate.customer.test") == "v=spf1 -all"


# ------------------------------------------------------------ reload, replace, stop


def test_replace_zone_changes_the_answer_and_bumps_the_serial(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE})
    assert server.query("customer.test", "SOA").answer[0][0].serial == 1

    serial = server.replace_zone("customer.test", UPDATE_ZONE.replace("192.0.2.0/24", "203.0.113.0/24"))

    assert serial == 2
    assert server.query("customer.test", "SOA").answer[0][0].serial == 2
    assert spf_text(server, "_spf.customer.test") == "v=spf1 ip4:203.0.113.0/24 -all"


def test_replace_zone_keeps_a_higher_serial_given_by_the_caller(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE})
    text = UPDATE_ZONE.replace("( 1 ", "( 2025010101 ").replace("192.0.2.0/24", "203.0.113.0/24")

    assert server.replace_zone("customer.test", text) == 2025010101
    assert server.zone_file("customer.test").read_text() == text


def test_replace_zone_on_an_updatable_zone_discards_the_journal(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE}, updatable=["customer.test"])
    update = signed_update(server, "customer.test")
    update.add("added", 300, "TXT", '"v=spf1 -all"')
    assert dns.query.tcp(update, server.host, port=server.port, timeout=2).rcode() == dns.rcode.NOERROR

    serial = server.replace_zone("customer.test", UPDATE_ZONE.replace("192.0.2.0/24", "203.0.113.0/24"))

    assert serial == 3  # 1 loaded, 2 after the update, 3 after the replacement
    assert spf_text(server, "_spf.customer.test") == "v=spf1 ip4:203.0.113.0/24 -all"
    assert server.query("added.customer.test", "TXT").rcode() == dns.rcode.NXDOMAIN
    update = signed_update(server, "customer.test")
    update.add("again", 300, "TXT", '"v=spf1 -all"')
    assert dns.query.tcp(update, server.host, port=server.port, timeout=2).rcode() == dns.rcode.NOERROR


def test_rndc_reload_picks_up_an_edited_zone_file(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE})
    path = server.zone_file("customer.test")
    path.write_text(UPDATE_ZONE.replace("( 1 ", "( 7 ").replace("192.0.2.0/24", "198.51.100.7"))

    server.reload()

    for _ in range(500):
        if server.query("customer.test", "SOA").answer[0][0].serial == 7:
            break
        time.sleep(0.01)
    assert spf_text(server, "_spf.customer.test") == "v=spf1 ip4:198.51.100.7 -all"


def test_rndc_conf_drives_the_server_like_a_real_rndc(named_factory: NamedFactory) -> None:
    rndc = bind_tool("rndc", "bind9-utils")
    server = named_factory({"customer.test": UPDATE_ZONE})
    result = subprocess.run(
        [rndc, "-c", str(server.rndc_conf), "status"], capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 0, result.stderr
    assert "server is up and running" in result.stdout


def test_stop_makes_queries_time_out_and_start_comes_back_on_the_same_port(
    named_factory: NamedFactory,
) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE})
    port = server.port

    server.stop()

    assert not server.running
    with pytest.raises(dns.exception.Timeout):
        server.query("_spf.customer.test", "TXT", timeout=0.5)

    server.start()

    assert server.port == port
    assert spf_text(server, "_spf.customer.test") == "v=spf1 ip4:192.0.2.0/24 -all"


def test_closing_removes_the_temporary_directory(named_factory: NamedFactory) -> None:
    server = named_factory({"customer.test": UPDATE_ZONE})
    workdir = server.workdir
    assert (workdir / "named.conf").exists()

    server.close()

    assert not workdir.exists()
    assert not server.running


def test_a_broken_zone_fails_fast_with_named_log(named_factory: NamedFactory) -> None:
    with pytest.raises(NamedStartError, match=r"(?s)not loaded due to errors"):
        named_factory({"broken.test": "$TTL 300\n@ IN SOA ns hostmaster ( 1 2 3 4 5 )\n@ IN BOGUS x\n"})


def test_server_starts_well_within_the_budget(named_factory: NamedFactory) -> None:
    server = named_factory(ZONES_DIR)
    assert server.startup_seconds is not None
    assert server.startup_seconds < 5.0, server.log_tail()


def test_fixture_zone_files_are_left_untouched(named: NamedServer) -> None:
    for origin in named.zones:
        repo_copy = Path(ZONES_DIR, f"{origin}.zone")
        assert named.zone_file(origin) != repo_copy
        assert named.zone_file(origin).read_text() == repo_copy.read_text()


def test_every_fixture_zone_file_says_where_its_data_comes_from() -> None:
    for path in ZONES_DIR.glob("*.zone"):
        header = path.read_text().split("$ORIGIN", 1)[0]
        assert re.search(r"EXACT|PLAUSIBLE|Nothing here is real", header), path.name


def test_missing_named_fails_under_ci_and_skips_elsewhere(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = Path(__file__).with_name("conftest.py").resolve()
    (conftest,) = [
        plugin
        for plugin in request.config.pluginmanager.get_plugins()
        if Path(getattr(plugin, "__file__", "") or "/").resolve() == here
    ]
    monkeypatch.setenv("SPFBUILD_NAMED", "/nonexistent/named")

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="bind9"):
        conftest.require_named()

    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="bind9"):
        conftest.require_named()


def test_every_test_here_is_marked_bind(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("bind") is not None
