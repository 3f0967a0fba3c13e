"""`spfbuild render` publishes the DKIM and DMARC records beside SPF: the NL365Pro case of the
write-up, in every format, read back by dnspython and by octoDNS."""

from __future__ import annotations

import json
from pathlib import Path

import dns.rdatatype
import dns.zone
import pytest
from support import nl365pro
from typer.testing import CliRunner

from spfbuild.cli import application

app = application()
runner = CliRunner()

# The records published in the NL365Pro write-up.
NL365PRO, SPF, DMARC, CNAMES = nl365pro.CONFIG, nl365pro.SPF, nl365pro.DMARC, nl365pro.CNAMES
MAILCHIMP_ADVICE = ("provider mailchimp: SPF never aligns: its return-path is its own domain; DMARC passes only "
                    "through DKIM: publish k1._domainkey and authenticate the domain in Mailchimp")


def render(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    config = tmp_path / "senders.yaml"
    config.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["render", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_txt_lists_name_and_value_of_every_record(tmp_path: Path) -> None:
    code, out, _ = render(tmp_path, NL365PRO)
    assert code == 0
    assert out.splitlines() == [
        f'nl365pro.com\t"{SPF}"',
        *(f"{name}\tCNAME\t{target}." for name, target in CNAMES.items()),
        f'_dmarc.nl365pro.com\t"{DMARC}"',
    ]


def test_zone_holds_exactly_the_write_up_records_and_dnspython_reads_it(tmp_path: Path) -> None:
    code, out, _ = render(tmp_path, NL365PRO, "--format", "zone")
    assert code == 0
    zone = dns.zone.from_text(out, origin="nl365pro.com.", relativize=False, check_origin=False)
    found = {(str(name).rstrip("."), dns.rdatatype.to_text(rdataset.rdtype), rdata.to_text())
             for name, rdataset in zone.iterate_rdatasets() for rdata in rdataset}
    assert found == {
        ("nl365pro.com", "TXT", f'"{SPF}"'),
        *((name, "CNAME", f"{target}.") for name, target in CNAMES.items()),
        ("_dmarc.nl365pro.com", "TXT", f'"{DMARC}"'),
    }


def test_octodns_reads_the_cname_and_txt_records(tmp_path: Path) -> None:
    code, out, _ = render(tmp_path, NL365PRO, "--format", "octodns")
    assert code == 0
    found = nl365pro.octodns_records(out, tmp_path / "zones")
    assert found == {
        ("", "TXT"): [SPF],
        **{(name.removesuffix(".nl365pro.com"), "CNAME"): f"{target}." for name, target in CNAMES.items()},
        ("_dmarc", "TXT"): [DMARC.replace(";", "\\;")],
    }


def test_json_gives_each_companion_with_its_provenance(tmp_path: Path) -> None:
    code, out, _ = render(tmp_path, NL365PRO, "--format", "json")
    assert code == 0
    (domain,) = json.loads(out)
    companions = {c["name"]: c for c in domain["companions"]}
    assert {n: c["value"] for n, c in companions.items() if c["type"] == "CNAME"} == CNAMES
    assert companions["_dmarc.nl365pro.com"]["value"] == DMARC
    office = companions["selector1._domainkey.nl365pro.com"]["provenance"]
    assert office["sender"] == "provider office365"
    assert office["config"].endswith("senders.yaml:5:11")
    assert "office365.yaml" in office["source"]
    assert "learn.microsoft.com" in office["documentation"]
    assert companions["_dmarc.nl365pro.com"]["provenance"]["config"].endswith("senders.yaml:10:3")
    assert domain["alignment"] == [MAILCHIMP_ADVICE]


def test_render_advises_on_the_sender_that_cannot_align_through_spf(tmp_path: Path) -> None:
    code, _, err = render(tmp_path, NL365PRO)
    assert code == 0
    assert err.splitlines() == [f"spfbuild: note: nl365pro.com: {MAILCHIMP_ADVICE}"]


def test_an_enforcing_policy_warns_of_a_sender_with_neither_aligned_spf_nor_dkim(tmp_path: Path) -> None:
    config = NL365PRO.replace("  - provider: mailchimp\n    dkim: true\n", "  - provider: mailchimp\n")
    code, _, err = render(tmp_path, config.replace("policy: none", "policy: reject"))
    assert code == 0
    assert ("spfbuild: warning: nl365pro.com: dmarc p=reject sp=reject: provider mailchimp has neither aligned SPF "
            "nor DKIM declared, so receivers will reject its mail") in err
    code, _, err = render(tmp_path, NL365PRO.replace("policy: none", "policy: reject"))
    assert code == 0 and "neither aligned SPF nor DKIM" not in err
    code, _, err = render(tmp_path, config.replace("subdomain_policy: reject", "subdomain_policy: none"))
    assert code == 0 and "neither aligned SPF nor DKIM" not in err  # p=none asks nothing of receivers


def test_a_txt_key_is_published_under_the_catalogue_selector(tmp_path: Path) -> None:
    key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "A" * 302 + "IDAQAB"
    config = f"domain: example.com\npolicy: fail\nsenders:\n  - provider: google\n    dkim: {{key: {key}}}\n"
    code, out, _ = render(tmp_path, config, "--format", "zone")
    assert code == 0
    zone = dns.zone.from_text(out, origin="example.com.", relativize=False, check_origin=False)
    rdataset = zone.find_rdataset("google._domainkey.example.com.", "TXT")
    (rdata,) = rdataset
    assert b"".join(rdata.strings).decode() == f"v=DKIM1; k=rsa; p={key}"  # over 255 bytes: several strings
    assert len(rdata.strings) > 1 and all(len(part) <= 255 for part in rdata.strings)


@pytest.mark.parametrize(("sender", "at", "message"), [
    ("provider: office365\n    dkim: true", "true",
     "DKIM for provider 'office365' needs 'tenant': the first label of the tenant's initial domain"),
    ("provider: office365\n    dkim: {tenant: -bad-}", "{", "'-bad-' is not a valid 'tenant'"),
    ("provider: google\n    dkim: true", "true",
     "DKIM for provider google is a TXT key Google Workspace shows: give it as dkim: {selector: google, key: ...}"),
    ("provider: google\n    dkim: {key: 'not base64!'}", "'not", "DKIM key: the public key is not base64"),
    ("provider: fastmail\n    dkim: true", "true",
     "its CNAME targets are specific to each customer; give them as Fastmail shows them, "
     "dkim: {targets: {fm1: ..., fm2: ..., fm3: ...}}"),
    ("provider: ovh\n    dkim: true", "true", "provider ovh: the catalogue has no DKIM facts for"),
    ("provider: mailchimp\n    dkim: {tenant: x}", "tenant", "unknown key 'tenant' in dkim"),
    ("ip4: [192.0.2.1]\n    dkim: true", "true", "dkim: give the selector and key"),
    ("provider: mailchimp\n    dkim: {targets: {k1: 'not a name'}}", "'not",
     "dkim.targets.k1: 'not a name' is not a domain name"),
    ("provider: mailchimp\n    dkim: yes please", "yes", "dkim must be true, false or a mapping"),
])
def test_dkim_entries_that_cannot_make_records_name_what_is_missing(
        tmp_path: Path, sender: str, at: str, message: str) -> None:
    config = f"domain: example.com\npolicy: fail\nsenders:\n  - {sender}\n"
    where = f"5:{config.splitlines()[4].index(at) + 1}"
    code, out, err = render(tmp_path, config)
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"spfbuild: error: {tmp_path / 'senders.yaml'}:{where}: ")
    assert message in line


def test_two_senders_publishing_one_name_are_refused(tmp_path: Path) -> None:
    config = ("domain: example.com\npolicy: fail\nsenders:\n  - provider: mailchimp\n    dkim: true\n"
              "  - include: _spf.example.net\n    dkim: {targets: {k1: dkim.example.net}}\n")
    code, out, err = render(tmp_path, config)
    assert code == 1 and out == ""
    assert ("k1._domainkey.example.com: provider mailchimp and include _spf.example.net both need this name; "
            "a CNAME must be the only record at its name") in err


@pytest.mark.parametrize(("dmarc", "at", "message"), [
    ("{pct: 100}", "{", "dmarc needs 'policy:' (none, quarantine or reject)"),
    ("{policy: block}", "block", "dmarc.policy: 'block' is not a policy: use none, quarantine or reject"),
    ("{policy: none, pct: 101}", "101", "dmarc.pct: '101' is not a percentage"),
    ("{policy: none, pct: half}", "half", "dmarc.pct must be a whole number"),
    ("{policy: none, rua: [https://example.com/r]}", "https", "receivers send reports to mailto: URIs"),
    ("{policy: none, rua: [mailto:nobody]}", "mailto", "'nobody' is not an email address"),
    ("{policy: none, ruf: 'mailto:a@example.com!10x'}", "'mailto", "the size limit after '!'"),
    ("{policy: none, adkim: loose}", "loose", "'loose' is not an alignment mode"),
    ("{policy: none, fo: 2}", "2", "'2' is not a list of failure options"),
    ("{policy: none, ri: -1}", "-1", "'-1' is not a report interval"),
    ("{policy: none, np: reject}", "np", "unknown key 'np' in dmarc"),
])
def test_dmarc_values_are_checked_as_rfc_7489_tags(tmp_path: Path, dmarc: str, at: str, message: str) -> None:
    config = f"domain: example.com\npolicy: fail\nsenders: [{{ip4: [192.0.2.1]}}]\ndmarc: {dmarc}\n"
    where = f"4:{config.splitlines()[3].index(at) + 1}"
    code, out, err = render(tmp_path, config)
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"spfbuild: error: {tmp_path / 'senders.yaml'}:{where}: "), line
    assert message in line


def test_dmarc_words_map_to_tags(tmp_path: Path) -> None:
    config = ("domain: example.com\npolicy: fail\nsenders: [{ip4: [192.0.2.1]}]\n"
              "dmarc: {policy: Quarantine, adkim: strict, aspf: relaxed, fo: '1:d', ri: 3600,"
              " rua: mailto:r@example.com, ruf: ['mailto:f@example.com!10m', mailto:g@example.com]}\n")
    code, out, _ = render(tmp_path, config)
    assert code == 0
    assert out.splitlines()[1] == ('_dmarc.example.com\t"v=DMARC1; p=quarantine; rua=mailto:r@example.com; '
                                   'ruf=mailto:f@example.com!10m,mailto:g@example.com; adkim=s; aspf=r; fo=1:d; '
                                   'ri=3600"')


def test_dmarc_in_defaults_is_inherited_by_each_domain_that_does_not_set_its_own(tmp_path: Path) -> None:
    config = ("defaults:\n  policy: fail\n  senders: [{ip4: [192.0.2.1]}]\n"
              "  dmarc: {policy: reject, rua: [mailto:reports@example.org]}\n"
              "domains:\n  a.example.org:\n  b.example.org:\n    dmarc: {policy: none}\n"
              "  c.example.org:\n    dmarc: false\n")
    code, out, _ = render(tmp_path, config, "--format", "json")
    assert code == 0
    found = {d["domain"]: [c["value"] for c in d.get("companions", [])] for d in json.loads(out)}
    assert found == {
        "a.example.org": ["v=DMARC1; p=reject; rua=mailto:reports@example.org"],
        "b.example.org": ["v=DMARC1; p=none"],
        "c.example.org": [],
    }


def test_a_config_without_companions_renders_as_before(tmp_path: Path) -> None:
    code, out, err = render(tmp_path, "domain: example.com\npolicy: fail\nsenders: [{provider: office365}]\n")
    assert code == 0 and out == '"v=spf1 include:spf.protection.outlook.com -all"\n' and err == ""
