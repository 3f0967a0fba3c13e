"""`spfbuild providers refresh` measures providers' lookup costs against a real BIND 9 serving
provider-like zones, and flatten honours the catalogue's kept and macro providers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from support.named import NamedServer

PROVIDERS = Path(__file__).resolve().parents[2] / "providers"


def spfbuild(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfbuild", *args], capture_output=True, text=True, timeout=120)


def copy_providers(tmp_path: Path, *ids: str) -> Path:
    mine = tmp_path / "mine"
    mine.mkdir()
    for ident in ids:
        shutil.copy(PROVIDERS / f"{ident}.yaml", mine)
    return mine


def test_refresh_shows_old_and_new_costs_measured_on_the_server(named: NamedServer, tmp_path: Path) -> None:
    mine = copy_providers(tmp_path, "google", "salesforce", "zendesk")
    proc = spfbuild("providers", "refresh", "google", "salesforce", "zendesk", "--nameserver", named.nameserver,
                    "--providers", str(mine))
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert lines["google"].split()[1:] == ["_spf.google.com", "4", "->", "4", "(unchanged)"]
    assert "_spf.salesforce.com" in lines["salesforce"] and "->" in lines["salesforce"]
    assert "mail.zendesk.com" in lines["zendesk"]
    assert (mine / "google.yaml").read_text(encoding="utf-8") == (PROVIDERS / "google.yaml").read_text(encoding="utf-8")


def test_refresh_write_records_the_figure_and_the_date_in_the_users_file(named: NamedServer, tmp_path: Path) -> None:
    mine = copy_providers(tmp_path, "google")
    text = (mine / "google.yaml").read_text(encoding="utf-8").replace("lookups: 4\n", "lookups: 9\n")
    (mine / "google.yaml").write_text(text, encoding="utf-8")
    proc = spfbuild("providers", "refresh", "google", "--nameserver", named.nameserver, "--providers", str(mine),
                    "--write")
    assert proc.returncode == 1  # a figure changed
    assert "9 -> 4" in proc.stdout and f"wrote {mine / 'google.yaml'}" in proc.stdout
    written = (mine / "google.yaml").read_text(encoding="utf-8")
    assert "\nlookups: 4\nlookups_measured: " in written
    shown = spfbuild("providers", "show", "google", "--providers", str(mine))
    assert "4 (measured 20" in shown.stdout
    again = spfbuild("providers", "refresh", "google", "--nameserver", named.nameserver, "--providers", str(mine))
    assert again.returncode == 0 and "(unchanged)" in again.stdout


def test_refresh_says_what_it_cannot_measure(named: NamedServer) -> None:
    proc = spfbuild("providers", "refresh", "hubspot", "--nameserver", named.nameserver)
    assert proc.returncode == 1 and "account-specific: needs its parameters" in proc.stdout


def test_flatten_keeps_literal_and_macro_providers_as_written(named: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "k.yaml"
    config.write_text("domain: example.test\npolicy: fail\nsenders:\n  - provider: zendesk\n"
                      "  - provider: salesforce\n  - provider: google\nflatten:\n  max_lookups: 4\n", encoding="utf-8")
    proc = spfbuild("flatten", str(config), "--nameserver", named.nameserver)
    assert proc.returncode == 0, proc.stderr
    assert "include:mail.zendesk.com" in proc.stdout and "include:_spf.salesforce.com" in proc.stdout
    assert "_spf.google.com" not in proc.stdout


def test_flatten_explains_why_each_kept_include_stays(named: NamedServer, tmp_path: Path) -> None:
    config = tmp_path / "k.yaml"
    config.write_text("domain: example.test\npolicy: fail\nsenders:\n  - provider: zendesk\n"
                      "  - provider: salesforce\n  - include: excl.flat.test\n  - provider: google\n"
                      "flatten:\n  max_lookups: 5\n  keep: [excl.flat.test]\n", encoding="utf-8")
    proc = spfbuild("flatten", str(config), "--nameserver", named.nameserver, "--explain", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (item,) = json.loads(proc.stdout)
    because = item["kept_because"]
    assert because["include:mail.zendesk.com"].startswith("Zendesk: ")
    assert because["include:_spf.salesforce.com"].startswith("Salesforce: ")
    assert because["include:excl.flat.test"] == "flatten.keep names excl.flat.test"
    assert "include:_spf.google.com" not in because
    assert f"  kept      include:mail.zendesk.com ({because['include:mail.zendesk.com']})" in proc.stderr
