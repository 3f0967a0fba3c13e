"""Specification of the facts that decide how a sender is published, through config, render and
the `spfbuild providers` command: kept includes, macros, MAIL FROM placement, parameters, and
users' own provider directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from spfbuild.catalogue import load_catalogue, load_for, user_directories
from spfbuild.cli import application
from spfbuild.config import ConfigError, parse_config
from spfbuild.provider import CatalogueError
from spfbuild.rendering import Rendered, render_domain

app = application()
runner = CliRunner()
CATALOGUE = load_catalogue()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def rendered(text: str) -> Rendered:
    (spec,) = parse_config(text, "senders.yaml", CATALOGUE).domains
    return render_domain(spec, CATALOGUE)


# --- parameters ------------------------------------------------------------------------------------


def test_hubspot_with_its_hub_id_renders_the_account_include() -> None:
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n"
                      "  - provider: hubspot\n    hub_id: 1234567\n    spf_number: '01'\n")
    assert result.value == "v=spf1 include:1234567.spf01.hubspotemail.net -all"


def test_proofpoint_on_demand_renders_the_account_include_and_is_kept_for_its_macros() -> None:
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n"
                      "  - provider: proofpoint-on-demand\n    account_id: '0095a102'\n")
    assert result.value == "v=spf1 include:spf-0095a102.pphosted.com -all"
    assert CATALOGUE.get("proofpoint-on-demand").macro
    with pytest.raises(ConfigError, match=r"provider 'proofpoint-on-demand' needs 'account_id'"):
        parse_config("domain: example.com\npolicy: fail\nsenders:\n  - provider: proofpoint-on-demand\n",
                     "senders.yaml", CATALOGUE)


def test_a_missing_parameter_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"senders.yaml:4:15: provider 'hubspot' needs 'hub_id'"):
        parse_config("domain: example.com\npolicy: fail\nsenders:\n  - provider: hubspot\n    spf_number: '01'\n",
                     "senders.yaml", CATALOGUE)


def test_a_bad_parameter_value_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"'12ab' is not a valid 'hub_id'"):
        parse_config("domain: example.com\npolicy: fail\nsenders:\n"
                     "  - provider: hubspot\n    hub_id: 12ab\n    spf_number: '01'\n", "senders.yaml", CATALOGUE)


def test_parameters_are_refused_on_a_provider_without_them() -> None:
    with pytest.raises(ConfigError, match="unknown key 'hub_id'"):
        parse_config("domain: example.com\npolicy: fail\nsenders:\n  - provider: google\n    hub_id: 1\n",
                     "senders.yaml", CATALOGUE)


def test_an_a_mechanism_provider_renders_an_a_term() -> None:
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n  - provider: proofpoint-essentials\n"
                      "    region: eu\n")
    assert result.value == "v=spf1 a:dispatch-eu.ppe-hosted.com -all"


# --- kept includes, macros, placement ------------------------------------------------------------


def test_render_explains_why_a_literal_provider_is_kept() -> None:
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n  - provider: zendesk\n")
    (note,) = result.notes
    assert note.startswith("include:mail.zendesk.com is kept as written when flattening: Zendesk:")
    terms = result.record_set.extra["terms"]
    assert isinstance(terms, list)
    assert "literally" in terms[0]["kept"] and len(terms) == 2


def test_a_macro_provider_is_kept_and_says_so() -> None:
    salesforce = CATALOGUE.get("salesforce")
    assert salesforce.macro and salesforce.keep and not salesforce.keep_literal
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n  - provider: salesforce\n")
    assert "exists" in result.notes[0]


def test_a_mail_from_provider_at_the_apex_is_warned_with_the_subdomain() -> None:
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n  - provider: mailgun\n")
    (warning,) = result.warnings
    assert "mg.example.com" in warning and "not on example.com" in warning
    assert result.record_set.extra["warnings"] == [warning]


@pytest.mark.parametrize("config", [
    "domain: mg.example.com\npolicy: fail\nsenders:\n  - provider: mailgun\n",
    "domain: bounces.example.com\nmail_from: true\npolicy: fail\nsenders:\n  - provider: mailgun\n",
])
def test_a_mail_from_provider_on_its_subdomain_is_not_warned(config: str) -> None:
    assert rendered(config).warnings == ()


def test_atlassian_at_the_apex_is_warned_with_its_bounce_subdomain() -> None:
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n  - provider: jira\n")
    (warning,) = result.warnings
    assert "atlassian-bounces.example.com" in warning
    assert result.value == "v=spf1 include:_spf.atlassian.net -all"


def test_pardot_is_kept_as_written_because_it_checks_for_its_include() -> None:
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n  - provider: account-engagement\n")
    (note,) = result.notes
    assert note.startswith("include:aspmx.pardot.com is kept as written when flattening:")


def test_a_config_without_such_providers_renders_as_before() -> None:
    result = rendered("domain: example.com\npolicy: fail\nsenders:\n  - provider: google\n")
    assert result.notes == () and result.warnings == ()
    terms = result.record_set.extra["terms"]
    assert isinstance(terms, list)
    assert "notes" not in result.record_set.extra and "kept" not in terms[0]


# --- users' own providers --------------------------------------------------------------------------


def own_provider(directory: Path, ident: str = "acme-mail", include: str = "_spf.acme.example") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "id": ident, "name": "Acme Mail", "aliases": [], "category": "mailbox", "description": "In-house relay.",
        "documentation": "https://acme.example/spf",
        "sources": [{"url": "https://acme.example/spf", "read": "2026-12-01", "confidence": "primary",
                     "facts": ["spf"]}],
        "include": include, "lookups": 1, "custom_return_path": True,
        "return_path_note": "Our own relay keeps the sender's address.",
    }
    path = directory / f"{ident}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_user_directory_adds_a_provider(tmp_path: Path) -> None:
    own_provider(tmp_path / "mine")
    catalogue = load_for(tmp_path / "mine")
    assert catalogue.get("acme-mail").include_for() == ("_spf.acme.example",)
    assert len(catalogue) == len(CATALOGUE) + 1


def test_a_user_file_overrides_a_bundled_provider_and_the_table_says_so(tmp_path: Path) -> None:
    own_provider(tmp_path / "mine", ident="zendesk", include="mail.zendesk-eu.example")
    catalogue = load_for(tmp_path / "mine")
    assert catalogue.get("zendesk").include_for() == ("mail.zendesk-eu.example",)
    assert catalogue.get("zendesk").overrides == CATALOGUE.get("zendesk").origin
    code, out, _ = run("providers", "--providers", str(tmp_path / "mine"))
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("zendesk ")]
    assert "override" in line and "mail.zendesk-eu.example" in line
    code, out, _ = run("providers", "--json", "--providers", str(tmp_path / "mine"))
    (item,) = [p for p in json.loads(out) if p["id"] == "zendesk"]
    assert item["override"].endswith("zendesk.yaml")


def test_a_user_file_can_hold_an_account_specific_include(tmp_path: Path) -> None:
    path = own_provider(tmp_path / "mine", ident="proofpoint-on-demand", include="spf-{cluster_id}.pphosted.com")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["parameters"] = {"cluster_id": {"description": "the account's cluster id", "pattern": "[0-9a-f]{8}",
                                         "example": "00123c01"}}
    data["sources"][0]["facts"] = ["spf", "parameters"]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    catalogue = load_for(tmp_path / "mine")
    (spec,) = parse_config("domain: example.com\npolicy: fail\nsenders:\n  - provider: proofpoint-on-demand\n"
                           "    cluster_id: 00abcd01\n", "senders.yaml", catalogue).domains
    assert render_domain(spec, catalogue).value == "v=spf1 include:spf-00abcd01.pphosted.com -all"


def test_a_broken_user_file_is_one_error_naming_the_file_and_key(tmp_path: Path) -> None:
    path = own_provider(tmp_path / "mine")
    path.write_text(path.read_text(encoding="utf-8").replace("include: _spf.acme.example", "include: not a name"),
                    encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"acme-mail.yaml: include: 'not a name' is not a valid domain name"):
        load_for(tmp_path / "mine")
    code, _, err = run("providers", "--providers", str(tmp_path / "mine"))
    assert code == 64 and err.count("\n") == 1 and "acme-mail.yaml: include:" in err


def test_directories_come_from_beside_the_config_the_environment_and_the_option(tmp_path: Path) -> None:
    config = tmp_path / "site" / "senders.yaml"
    (tmp_path / "site" / "providers").mkdir(parents=True)
    config.write_text("", encoding="utf-8")
    found = user_directories(tmp_path / "opt", config, {"SPFBUILD_PROVIDERS": f"{tmp_path / 'a'}:{tmp_path / 'b'}"})
    assert found == (tmp_path / "site" / "providers", tmp_path / "a", tmp_path / "b", tmp_path / "opt")


def test_render_uses_a_providers_directory_beside_the_config(tmp_path: Path) -> None:
    own_provider(tmp_path / "providers")
    config = tmp_path / "senders.yaml"
    config.write_text("domain: example.com\npolicy: fail\nsenders:\n  - provider: acme-mail\n", encoding="utf-8")
    code, out, err = run("render", str(config))
    assert code == 0, err
    assert out == '"v=spf1 include:_spf.acme.example -all"\n'


def test_render_takes_the_environment_and_the_option(tmp_path: Path) -> None:
    own_provider(tmp_path / "mine")
    config = tmp_path / "site" / "senders.yaml"
    config.parent.mkdir()
    config.write_text("domain: example.com\npolicy: fail\nsenders:\n  - provider: acme-mail\n", encoding="utf-8")
    code, out, _ = run("render", str(config), "--providers", str(tmp_path / "mine"))
    assert code == 0 and "_spf.acme.example" in out
    code, out, _ = run("render", str(config), env={"SPFBUILD_PROVIDERS": str(tmp_path / "mine")})
    assert code == 0 and "_spf.acme.example" in out
    code, _, err = run("render", str(config))
    assert code == 1 and "unknown provider 'acme-mail'" in err


# --- `spfbuild providers` --------------------------------------------------------------------------


def test_the_table_shows_includes_costs_with_their_basis_and_flags() -> None:
    code, out, _ = run("providers")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(lines) == set(CATALOGUE.ids)
    assert "7 (primary)" in lines["mimecast"] and "eu=eu._netblocks.mimecast.com" in lines["mimecast"]
    assert "global=_netblocks.mimecast.com*" in lines["mimecast"]
    assert "impersonation eu=eu._extnetblocks.mimecast.com" in lines["mimecast"]
    assert "literal" in lines["zendesk"] and "macro" in lines["salesforce"] and "mail-from" in lines["mailgun"]
    assert "parameters" in lines["hubspot"] and "1 (at least)" in lines["hubspot"]
    assert "gcc-high=spf.protection.office365.us" in lines["office365"]
    assert "us=spf.ess.barracudanetworks.com*" in lines["barracuda"]
    assert "uk=spf.ess.uk.barracudanetworks.com" in lines["barracuda"]
    assert "mail-from" in lines["atlassian"] and "literal" in lines["pardot"]


def test_show_gives_every_fact_with_its_sources() -> None:
    code, out, _ = run("providers", "show", "mandrill")
    assert code == 0
    assert "mte1 -> dkim1.mandrillapp.com" in out and "read 2026-12-01, secondary" in out
    code, out, _ = run("providers", "show", "hubspot", "--json")
    item = json.loads(out)
    assert item["parameters"]["hub_id"]["example"] == "1234567"
    assert {s["confidence"] for s in item["sources"]} == {"primary", "secondary"}


def test_show_names_a_repository_file_as_a_secondary_source() -> None:
    code, out, _ = run("providers", "show", "barracuda")
    assert code == 0
    assert "us=spf.ess.barracudanetworks.com*" in out
    assert "github.com/KelvinTegelaar/CIPP-API/blob/" in out and "secondary" in out
    code, out, _ = run("providers", "show", "atlassian", "--json")
    item = json.loads(out)
    assert item["placement"] == "mail-from" and item["mail_from_subdomain"] == "atlassian-bounces"
    assert item["dkim"]["record"] == "cname"


def test_search_finds_by_include_alias_and_name() -> None:
    code, out, _ = run("providers", "search", "mcsv")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == ["mailchimp"]
    code, out, _ = run("providers", "search", "sendinblue", "--json")
    assert [p["id"] for p in json.loads(out)] == ["brevo"]
    code, out, _ = run("providers", "search", "Zoho")
    assert {line.split()[0] for line in out.splitlines()[1:]} == {"zoho-mail", "zoho-campaigns"}
    code, out, _ = run("providers", "search", "barracudanetworks")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["barracuda"]
    code, out, _ = run("providers", "search", "exacttarget", "--json")
    assert [p["id"] for p in json.loads(out)] == ["salesforce-marketing-cloud"]
    code, _, _ = run("providers", "search", "no-such-sender")
    assert code == 1
