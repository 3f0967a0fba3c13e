"""`spfbuild flatten` publishes the DKIM and DMARC records beside the flattened SPF record exactly
as `render` does: the NL365Pro case of the write-up in every format, read back by dnspython and
octoDNS, in one run and in cron mode, with per-domain files, and with the alignment advice."""

from __future__ import annotations

import json
from pathlib import Path

import dns.rdatatype
import dns.zone
import pytest
from support import nl365pro
from support.named import NamedServer
from typer.testing import CliRunner

from spfbuild.cli import application

app = application()
runner = CliRunner()

# The write-up's configuration; Mailchimp's include is flattened, so the SPF record is flatten's own.
NL365PRO = nl365pro.CONFIG + "flatten:\n  max_lookups: 1\n  reserve_bytes: 0\n"
DMARC, CNAMES = nl365pro.DMARC, nl365pro.CNAMES
MAILCHIMP_ADVICE = ("spfbuild: note: nl365pro.com: provider mailchimp: SPF never aligns: its return-path is its own "
                    "domain; DMARC passes only through DKIM: publish k1._domainkey and authenticate the domain in "
                    "Mailchimp")


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["flatten", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "senders.yaml"
    path.write_text(NL365PRO, encoding="utf-8")
    return path


def flatten_json(named: NamedServer, config: Path) -> dict[str, object]:
    code, out, _ = run(config, "--nameserver", named.nameserver, "--format", "json")
    assert code == 0
    (item,) = json.loads(out)
    assert isinstance(item, dict)
    return item


def spf_record(named: NamedServer, config: Path) -> str:
    record = flatten_json(named, config)["record"]
    assert isinstance(record, str)
    return record


def test_the_flattened_record_is_flatten_own(named: NamedServer, config: Path) -> None:
    record = spf_record(named, config)
    assert record.startswith("v=spf1 ip4:") and "include:servers.mcsv.net" not in record
    assert "ip4:178.251.192.3" in record and record.endswith(" -all")


def test_txt_lists_the_companions_after_the_spf_records(named: NamedServer, config: Path) -> None:
    record = spf_record(named, config)
    code, out, err = run(config, "--nameserver", named.nameserver)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("nl365pro.com\t") and record.split(" ")[1] in lines[0]
    assert lines[-4:] == [*(f"{name}\tCNAME\t{target}." for name, target in CNAMES.items()),
                          f'_dmarc.nl365pro.com\t"{DMARC}"']
    assert err.splitlines() == [MAILCHIMP_ADVICE]


def read_zone(text: str) -> set[tuple[str, str, str]]:
    zone = dns.zone.from_text(text, origin="nl365pro.com.", relativize=False, check_origin=False)
    return {(str(name).rstrip("."), dns.rdatatype.to_text(rdataset.rdtype), rdata.to_text())
            for name, rdataset in zone.iterate_rdatasets() for rdata in rdataset}


def companion_rows() -> set[tuple[str, str, str]]:
    return {*((name, "CNAME", f"{target}.") for name, target in CNAMES.items()),
            ("_dmarc.nl365pro.com", "TXT", f'"{DMARC}"')}


def test_zone_holds_the_companions_and_dnspython_reads_it(named: NamedServer, config: Path) -> None:
    item = flatten_json(named, config)
    code, out, _ = run(config, "--nameserver", named.nameserver, "--format", "zone")
    assert code == 0
    records = item["records"]
    assert isinstance(records, list)
    spf = {(r["name"], "TXT", " ".join(f'"{s}"' for s in r["strings"])) for r in records}
    assert read_zone(out) == spf | companion_rows()


def test_octodns_reads_the_cname_and_txt_companions(named: NamedServer, config: Path, tmp_path: Path) -> None:
    record = spf_record(named, config)
    code, out, _ = run(config, "--nameserver", named.nameserver, "--format", "octodns")
    assert code == 0
    found = nl365pro.octodns_records(out, tmp_path / "zones")
    spf = {key: value for key, value in found.items() if key[1] == "TXT" and key[0] != "_dmarc"}
    assert spf[("", "TXT")] == [record]
    assert {key: value for key, value in found.items() if key not in spf} == {
        **{(name.removesuffix(".nl365pro.com"), "CNAME"): f"{target}." for name, target in CNAMES.items()},
        ("_dmarc", "TXT"): [DMARC.replace(";", "\\;")],
    }


def test_json_gives_each_companion_with_its_provenance_and_the_advice(named: NamedServer, config: Path) -> None:
    item = flatten_json(named, config)
    companions = item["companions"]
    assert isinstance(companions, list)
    by_name = {c["name"]: c for c in companions}
    assert {n: c["value"] for n, c in by_name.items() if c["type"] == "CNAME"} == CNAMES
    assert by_name["_dmarc.nl365pro.com"]["value"] == DMARC
    assert by_name["k1._domainkey.nl365pro.com"]["provenance"]["sender"] == "provider mailchimp"
    assert item["alignment"] == [MAILCHIMP_ADVICE.split("nl365pro.com: ", 1)[1]]


@pytest.mark.parametrize(("fmt", "extension"), [("txt", "txt"), ("zone", "zone"), ("json", "json"),
                                                ("octodns", "yaml")])
def test_per_domain_files_carry_the_companions(named: NamedServer, config: Path, tmp_path: Path, fmt: str,
                                               extension: str) -> None:
    code, expected, _ = run(config, "--nameserver", named.nameserver, "--format", fmt)
    assert code == 0
    out = tmp_path / "out"
    code, printed, _ = run(config, "--nameserver", named.nameserver, "--format", fmt, "--output", f"{out}/")
    assert (code, printed) == (0, "")
    assert (out / f"nl365pro.com.{extension}").read_text(encoding="utf-8") == expected


@pytest.mark.parametrize(("fmt", "extension"), [("txt", "txt"), ("zone", "zone"), ("json", "json"),
                                                ("octodns", "yaml")])
def test_cron_mode_writes_what_a_single_run_emits(named: NamedServer, config: Path, tmp_path: Path, fmt: str,
                                                  extension: str) -> None:
    code, once, _ = run(config, "--nameserver", named.nameserver, "--format", fmt)
    assert code == 0
    state, output = tmp_path / "state.json", tmp_path / f"nl365pro.{extension}"
    code, out, err = run(config, "--nameserver", named.nameserver, "--state", state, "--format", fmt,
                         "--output", output)
    assert code == 0
    written = output.read_text(encoding="utf-8")
    # Under --state chained records take content-addressed names; everything else is the same.
    if fmt == "json":
        assert json.loads(written)[0]["companions"] == json.loads(once)[0]["companions"]
    else:
        assert companion_lines(written) == companion_lines(once) and len(companion_lines(once)) >= 4
    assert out.splitlines() == [
        "nl365pro.com: first run: 1 record(s)",
        *(f"  companion {name} CNAME: {target}." for name, target in CNAMES.items()),
        f"  companion _dmarc.nl365pro.com TXT: {DMARC}",
    ]
    assert err.splitlines() == [MAILCHIMP_ADVICE]
    assert run(config, "--nameserver", named.nameserver, "--state", state, "--format", fmt,
               "--output", output) == (0, "", "")
    assert output.read_text(encoding="utf-8") == written


def companion_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "_domainkey" in line or "_dmarc" in line or "dkim.mcsv" in line]


def test_cron_output_file_keeps_the_companions(named: NamedServer, config: Path, tmp_path: Path) -> None:
    state, zone_file = tmp_path / "state.json", tmp_path / "nl365pro.zone"
    code, _, _ = run(config, "--nameserver", named.nameserver, "--state", state, "--format", "zone",
                     "--output", zone_file)
    assert code == 0
    assert companion_rows() <= read_zone(zone_file.read_text(encoding="utf-8"))
    saved = json.loads(state.read_text(encoding="utf-8"))["domains"]["nl365pro.com"]
    assert {(c["name"], c["type"], c["value"]) for c in saved["companions"]} == {
        *((name, "CNAME", target) for name, target in CNAMES.items()), ("_dmarc.nl365pro.com", "TXT", DMARC)}


def test_a_missing_dkim_parameter_fails_that_domain_alone(named: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "senders.yaml"
    config.write_text(NL365PRO.replace("dkim: {tenant: exchangelabsnl}", "dkim: true"), encoding="utf-8")
    code, out, err = run(config, "--nameserver", named.nameserver)
    assert (code, out) == (1, "")
    assert "needs 'tenant'" in err and len(err.splitlines()) == 1


def test_a_plan_reports_a_companion_change_and_writes_nothing(named: NamedServer, config: Path,
                                                              tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    assert run(config, "--nameserver", named.nameserver, "--state", state)[0] == 0
    saved = state.read_text(encoding="utf-8")
    config.write_text(NL365PRO.replace("policy: none", "policy: quarantine")
                      .replace("    dkim: true\n", ""), encoding="utf-8")
    code, out, _ = run(config, "--nameserver", named.nameserver, "--state", state, "--check")
    assert code == 2
    assert out.splitlines() == [
        "nl365pro.com: changed",
        "  companion _dmarc.nl365pro.com TXT: " + DMARC.replace("p=none", "p=quarantine"),
        "  companion k1._domainkey.nl365pro.com CNAME dropped from the config",
    ]
    assert state.read_text(encoding="utf-8") == saved
