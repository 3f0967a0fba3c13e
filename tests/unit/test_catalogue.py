"""Specification of the provider catalogue: the shipped data and the loader that checks it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import spfbuild.catalogue as catalogue_module
from spfbuild.catalogue import Catalogue, load_catalogue
from spfbuild.provider import (
    CATEGORIES,
    CatalogueError,
    Provider,
    SchemaError,
    UnknownProviderError,
    UnknownRegionError,
    UnknownVariantError,
)

PROVIDERS_DIR = Path(__file__).resolve().parents[2] / "providers"

MIMECAST_REGIONS = {
    "global": "_netblocks.mimecast.com",
    "eu": "eu._netblocks.mimecast.com",
    "de": "de._netblocks.mimecast.com",
    "us": "us._netblocks.mimecast.com",
    "usb": "usb._netblocks.mimecast.com",
    "uspcom": "uspcom._netblocks.mimecast-pscom-us.com",
    "ca": "ca._netblocks.mimecast.com",
    "za": "za._netblocks.mimecast.com",
    "au": "au._netblocks.mimecast.com",
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# --- the shipped catalogue ------------------------------------------------------------------------


def test_every_shipped_file_loads_into_the_default_catalogue(catalogue: Catalogue) -> None:
    files = sorted(PROVIDERS_DIR.glob("*.yaml"))
    assert catalogue.directory == PROVIDERS_DIR
    assert sorted(catalogue.ids) == sorted(path.stem for path in files)
    assert load_catalogue(PROVIDERS_DIR) == catalogue


def test_the_catalogue_has_at_least_50_providers(catalogue: Catalogue) -> None:
    assert len(catalogue) >= 50


def test_ids_match_file_names_and_are_lower_case_hyphenated(catalogue: Catalogue) -> None:
    for provider in catalogue:
        assert (PROVIDERS_DIR / f"{provider.id}.yaml").is_file()
        assert provider.id == provider.id.lower()
        assert "_" not in provider.id and " " not in provider.id


def test_every_documentation_link_is_https(catalogue: Catalogue) -> None:
    for provider in catalogue:
        assert provider.documentation.startswith("https://"), provider.id


def test_every_provider_has_a_known_category_and_some_source(catalogue: Catalogue) -> None:
    for provider in catalogue:
        assert provider.category in CATEGORIES
        assert provider.include or provider.regions or provider.ip4 or provider.ip6


def test_kept_providers_say_why(catalogue: Catalogue) -> None:
    for provider in catalogue:
        assert bool(provider.keep_reason) == provider.keep, provider.id
        assert provider.keep == (provider.keep_literal or provider.macro)


def test_a_provider_without_custom_return_path_says_dmarc_cannot_align_through_spf(
    catalogue: Catalogue,
) -> None:
    for provider in catalogue:
        if not provider.custom_return_path:
            note = provider.return_path_note.lower()
            assert "dmarc" in note and "spf" in note and "align" in note, provider.id


@pytest.mark.parametrize(
    ("name", "include"),
    [
        ("office365", "spf.protection.outlook.com"),
        ("mailchimp", "servers.mcsv.net"),
        ("google", "_spf.google.com"),
        ("ovh", "mx.ovh.com"),
        ("mimecast", "_netblocks.mimecast.com"),
        ("sendgrid", "sendgrid.net"),
        ("amazon-ses", "amazonses.com"),
        ("mailgun", "mailgun.org"),
        ("postmark", "spf.mtasv.net"),
        ("zendesk", "mail.zendesk.com"),
        ("salesforce", "_spf.salesforce.com"),
        ("codetwo", "spf.emailsignatures365.com"),
        ("atlassian", "_spf.atlassian.net"),
        ("fastmail", "spf.messagingengine.com"),
        ("activecampaign", "emsd1.com"),
        ("customer-io", "mail.customeriomail.com"),
        ("salesforce-marketing-cloud", "cust-spf.exacttarget.com"),
        ("pardot", "aspmx.pardot.com"),
        ("barracuda", "spf.ess.barracudanetworks.com"),
        ("sophos-email", "_spf.prod.hydra.sophos.com"),
    ],
)
def test_required_providers_have_exactly_the_published_include(
    catalogue: Catalogue, name: str, include: str
) -> None:
    assert catalogue.get(name).include_for() == (include,)


@pytest.mark.parametrize(("region", "include"), sorted(MIMECAST_REGIONS.items()))
def test_each_mimecast_region_has_exactly_its_netblocks_include(
    catalogue: Catalogue, region: str, include: str
) -> None:
    assert catalogue.get("mimecast").include_for(region) == (include,)


def test_mimecast_has_exactly_the_documented_regions_and_global_by_default(catalogue: Catalogue) -> None:
    mimecast = catalogue.get("mimecast")
    assert mimecast.regions_map() == MIMECAST_REGIONS
    assert mimecast.default_region == "global"


def test_mimecast_global_covers_every_region_except_usb_and_uspcom(catalogue: Catalogue) -> None:
    mimecast = catalogue.get("mimecast")
    expected = frozenset(MIMECAST_REGIONS) - {"global", "usb", "uspcom"}
    assert mimecast.covered_regions("global") == expected
    assert mimecast.covered_regions(None) == expected
    assert mimecast.covered_regions("eu") == frozenset()


def test_mimecast_impersonation_variant_uses_extnetblocks_but_usb_and_uspcom_keep_netblocks(
    catalogue: Catalogue,
) -> None:
    mimecast = catalogue.get("mimecast")
    assert mimecast.variant_names == ("impersonation",)
    assert mimecast.include_for(None, "impersonation") == ("_extnetblocks.mimecast.com",)
    assert mimecast.include_for("eu", "impersonation") == ("eu._extnetblocks.mimecast.com",)
    assert mimecast.include_for("usb", "impersonation") == ("usb._netblocks.mimecast.com",)
    assert mimecast.include_for("uspcom", "impersonation") == ("uspcom._netblocks.mimecast-pscom-us.com",)
    assert set(mimecast.regions_map("impersonation")) == set(MIMECAST_REGIONS)


@pytest.mark.parametrize(
    ("alias", "provider_id"),
    [
        ("microsoft365", "office365"),
        ("m365", "office365"),
        ("exchange-online", "office365"),
        ("google-workspace", "google"),
        ("gsuite", "google"),
        ("mimecast-global", "mimecast"),
        ("Office365", "office365"),
        (" Google_Workspace ", "google"),
    ],
)
def test_aliases_and_casual_spellings_resolve_to_the_provider(
    catalogue: Catalogue, alias: str, provider_id: str
) -> None:
    assert catalogue.get(alias).id == provider_id
    assert catalogue.resolve(alias) == provider_id
    assert alias in catalogue


@pytest.mark.parametrize(("region", "include"), [
    ("us", "spf.ess.barracudanetworks.com"),
    ("au", "spf.ess.au.barracudanetworks.com"),
    ("ca", "spf.ess.ca.barracudanetworks.com"),
    ("de", "spf.ess.de.barracudanetworks.com"),
    ("in", "spf.ess.in.barracudanetworks.com"),
    ("uk", "spf.ess.uk.barracudanetworks.com"),
])
def test_each_barracuda_instance_has_its_own_include(catalogue: Catalogue, region: str, include: str) -> None:
    assert catalogue.get("barracuda").include_for(region) == (include,)


def test_sophos_email_has_a_common_include_and_data_centre_ones(catalogue: Catalogue) -> None:
    sophos = catalogue.get("sophos-email")
    assert sophos.include_for() == ("_spf.prod.hydra.sophos.com",)
    assert sophos.include_for("us-west-2") == ("_spf_uswest2.prod.hydra.sophos.com",)


def test_a_fact_resting_only_on_secondary_sources_is_said_to_be_so(catalogue: Catalogue) -> None:
    from spfbuild.provider_schema import FACTS

    for provider in catalogue:
        secondary = [fact for fact in FACTS if provider.confidence_of(fact) == "secondary"]
        if secondary:
            said = provider.notes + provider.return_path_note
            assert "(confidence: secondary)" in said, (provider.id, secondary)


def test_google_costs_four_lookups(catalogue: Catalogue) -> None:
    assert catalogue.get("google").lookups == 4


def test_providers_are_hashable_and_equal_by_value(catalogue: Catalogue) -> None:
    assert len({*catalogue.providers, *load_catalogue().providers}) == len(catalogue)


# --- lookup errors --------------------------------------------------------------------------------


def test_a_misspelled_provider_suggests_the_closest_name(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownProviderError) as caught:
        catalogue.get("offic365")
    assert str(caught.value) == "unknown provider 'offic365'; did you mean 'office365'?"
    assert caught.value.suggestions[0] == "office365"
    assert "offic365" not in catalogue


def test_an_unknown_provider_without_near_match_has_no_suggestion(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownProviderError, match=r"^unknown provider 'zzzzqqq'$"):
        catalogue.get("zzzzqqq")


def test_a_misspelled_region_suggests_and_lists_the_valid_regions(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownRegionError) as caught:
        catalogue.get("mimecast").include_for("uspcomm")
    message = str(caught.value)
    assert "did you mean 'uspcom'?" in message
    assert "valid regions: global, eu, de, us, usb, uspcom, ca, za, au" in message
    assert caught.value.valid == tuple(MIMECAST_REGIONS)


def test_a_region_given_to_a_provider_without_regions_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownRegionError, match="has no regions"):
        catalogue.get("office365").include_for("eu")
    with pytest.raises(UnknownRegionError):
        catalogue.get("office365").covered_regions("eu")


def test_microsoft_sovereign_clouds_are_variants_of_office365(catalogue: Catalogue) -> None:
    office365 = catalogue.get("office365")
    assert office365.include_for(None, "gcc-high") == ("spf.protection.office365.us",)
    assert office365.include_for(None, "21vianet") == ("spf.protection.partner.outlook.cn",)


def test_an_unknown_variant_is_refused_with_a_suggestion(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownVariantError, match="did you mean 'impersonation'"):
        catalogue.get("mimecast").include_for("eu", "impersonaton")
    with pytest.raises(UnknownVariantError):
        catalogue.get("google").include_for(None, "impersonation")


def test_every_error_is_a_catalogue_error() -> None:
    for error in (SchemaError, UnknownProviderError, UnknownRegionError, UnknownVariantError):
        assert issubclass(error, CatalogueError)
    assert issubclass(CatalogueError, Exception)


# --- locating the data ----------------------------------------------------------------------------


def test_load_catalogue_is_cached() -> None:
    assert load_catalogue() is load_catalogue()


def test_the_installed_wheel_layout_is_preferred_over_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "spfbuild"
    (package / "providers").mkdir(parents=True)
    (tmp_path / "providers").mkdir()
    monkeypatch.setattr(catalogue_module, "__file__", str(package / "catalogue.py"))
    assert catalogue_module.default_directory() == package / "providers"
    (package / "providers").rmdir()
    assert catalogue_module.default_directory() == tmp_path / "providers"
    (tmp_path / "providers").rmdir()
    with pytest.raises(CatalogueError, match="not found"):
        catalogue_module.default_directory()


# --- schema checks on bad files -------------------------------------------------------------------

DELETE = object()


def valid_provider(ident: str = "example") -> dict[str, Any]:
    return {
        "id": ident,
        "name": "Example",
        "aliases": [f"{ident}-alias"],
        "category": "transactional",
        "description": "A test sender.",
        "documentation": "https://example.com/spf",
        "sources": [{"url": "https://example.com/spf", "read": "2026-12-01", "confidence": "primary",
                     "facts": ["spf", "keep", "macro", "lookups", "parameters", "placement", "dkim"]}],
        "include": f"_spf.{ident}.com",
        "lookups": 1,
        "custom_return_path": True,
        "return_path_note": "Customers can set their own bounce domain.",
        "notes": "",
    }


def write(directory: Path, ident: str = "example", stem: str | None = None, **changes: Any) -> Path:
    data = valid_provider(ident)
    data.update(changes)
    data = {key: value for key, value in data.items() if value is not DELETE}
    path = directory / f"{stem or ident}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def load_error(directory: Path) -> SchemaError:
    with pytest.raises(SchemaError) as caught:
        load_catalogue(directory)
    return caught.value


def test_a_valid_temporary_file_loads(tmp_path: Path) -> None:
    write(tmp_path)
    loaded = load_catalogue(tmp_path)
    assert loaded.get("example-alias").include_for() == ("_spf.example.com",)


REGIONS = {"global": "_spf.example.com", "eu": "eu._spf.example.com"}


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"colour": "blue"}, "colour"),
        ({"category": DELETE}, "category"),
        ({"lookups": "one"}, "lookups"),
        ({"lookups": True}, "lookups"),
        ({"lookups": -1}, "lookups"),
        ({"keep": "yes"}, "keep"),
        ({"keep": True}, "keep"),
        ({"sources": []}, "sources"),
        ({"sources": DELETE}, "sources"),
        ({"sources": [{"url": "https://example.com", "read": "2026-12-01", "confidence": "primary",
                       "facts": ["dkim"]}]}, "sources"),
        ({"sources": [{"url": "http://example.com", "read": "2026-12-01", "confidence": "primary",
                       "facts": ["spf"]}]}, "sources[0].url"),
        ({"sources": [{"url": "https://example.com", "read": "yesterday", "confidence": "primary",
                       "facts": ["spf"]}]}, "sources[0].read"),
        ({"sources": [{"url": "https://example.com", "read": "2026-12-01", "confidence": "sure",
                       "facts": ["spf"]}]}, "sources[0].confidence"),
        ({"sources": [{"url": "https://example.com", "read": "2026-12-01", "confidence": "primary",
                       "facts": ["spf"], "colour": "blue"}]}, "sources[0].colour"),
        ({"include": "{hub}.example.com"}, "include"),
        ({"parameters": {"hub": {"description": "x", "pattern": "[0-9]+", "example": "abc"}}}, "parameters.hub.example"),
        ({"mechanism": "mx"}, "mechanism"),
        ({"placement": "mail-from"}, "mail_from_subdomain"),
        ({"mail_from_subdomain": "bounce"}, "mail_from_subdomain"),
        ({"macro": True}, "keep_reason"),
        ({"dkim": {"record": "key"}}, "dkim.record"),
        ({"dkim": {"selector": "s1"}}, "dkim.selector"),
        ({"lookups_measured": "soon"}, "lookups_measured"),
        ({"aliases": "example-alias"}, "aliases"),
        ({"aliases": ["Example_Alias"]}, "aliases"),
        ({"aliases": ["example"]}, "aliases"),
        ({"name": 42}, "name"),
        ({"category": "newsletter"}, "category"),
        ({"documentation": "http://example.com/spf"}, "documentation"),
        ({"documentation": "example.com/spf"}, "documentation"),
        ({"include": "not a domain"}, "include"),
        ({"include": "localhost"}, "include"),
        ({"include": "-bad.example.com"}, "include"),
        ({"include": "example.123"}, "include"),
        ({"include": DELETE}, "include"),
        ({"regions": REGIONS}, "include"),
        ({"include": DELETE, "regions": {"eu": "bad domain"}}, "regions.eu"),
        ({"include": DELETE, "regions": {"EU": "eu._spf.example.com"}}, "regions"),
        ({"include": DELETE, "regions": REGIONS, "default_region": "us"}, "default_region"),
        ({"default_region": "global"}, "default_region"),
        ({"include": DELETE, "regions": REGIONS, "covers": {"global": ["us"]}}, "covers.global"),
        ({"include": DELETE, "regions": REGIONS, "covers": {"eu": ["eu"]}}, "covers.eu"),
        ({"include": DELETE, "regions": REGIONS, "variants": {"ext": {"us": "us.x.example.com"}}},
         "variants.ext"),
        ({"include": DELETE, "regions": REGIONS, "variants": {"ext": {"eu": "bad domain"}}},
         "variants.ext.eu"),
        ({"ip4": ["300.1.2.3"]}, "ip4"),
        ({"ip4": ["2001:db8::/32"]}, "ip4"),
        ({"ip6": ["192.0.2.0/24"]}, "ip6"),
        ({"keep": "literal"}, "keep_reason"),
        ({"keep": "literal", "keep_reason": "  "}, "keep_reason"),
        ({"keep_reason": "because"}, "keep_reason"),
        ({"custom_return_path": False}, "return_path_note"),
        ({"notes": ["a", "list"]}, "notes"),
    ],
)
def test_each_schema_violation_names_the_file_and_the_key(
    tmp_path: Path, changes: dict[str, Any], key: str
) -> None:
    path = write(tmp_path, **changes)
    error = load_error(tmp_path)
    assert error.path == path and error.key == key
    assert str(path) in str(error) and f": {key}: " in str(error)


def test_an_id_that_differs_from_the_file_name_is_refused(tmp_path: Path) -> None:
    write(tmp_path, ident="example", stem="other")
    error = load_error(tmp_path)
    assert "other.yaml" in str(error) and error.key == "id" and "file name" in str(error)


def test_an_id_that_is_not_lower_case_hyphenated_is_refused(tmp_path: Path) -> None:
    write(tmp_path, ident="Bad_Id")
    error = load_error(tmp_path)
    assert "Bad_Id.yaml" in str(error) and error.key == "id"


def test_an_alias_equal_to_another_providers_id_is_refused(tmp_path: Path) -> None:
    write(tmp_path, ident="alpha")
    write(tmp_path, ident="beta", aliases=["alpha"])
    error = load_error(tmp_path)
    assert "beta.yaml" in str(error) and "alpha.yaml" in str(error) and error.key == "aliases"


def test_an_alias_shared_by_two_providers_is_refused(tmp_path: Path) -> None:
    write(tmp_path, ident="alpha", aliases=["shared"])
    write(tmp_path, ident="beta", aliases=["shared"])
    error = load_error(tmp_path)
    assert "beta.yaml" in str(error) and "'shared'" in str(error)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("id: [unclosed\n", "invalid YAML"), ("- just\n- a list\n", "mapping"), ("", "mapping")],
)
def test_a_file_that_is_not_a_yaml_mapping_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    error = load_error(tmp_path)
    assert "broken.yaml" in str(error) and problem in str(error)


def test_fixed_ranges_alone_are_a_valid_source(tmp_path: Path) -> None:
    write(tmp_path, include=DELETE, ip4=["192.0.2.0/24", "198.51.100.7"], ip6=["2001:db8::/32"], lookups=0)
    provider: Provider = load_catalogue(tmp_path).get("example")
    assert provider.include_for() == ()
    assert provider.ip4 == ("192.0.2.0/24", "198.51.100.7")


def test_a_regional_provider_without_default_needs_a_region(tmp_path: Path) -> None:
    write(tmp_path, include=DELETE, regions=REGIONS)
    provider = load_catalogue(tmp_path).get("example")
    assert provider.include_for("eu") == ("eu._spf.example.com",)
    with pytest.raises(UnknownRegionError, match="no default region"):
        provider.include_for()


def test_a_missing_or_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="does not exist"):
        load_catalogue(tmp_path / "absent")
    with pytest.raises(CatalogueError, match="no provider files"):
        load_catalogue(tmp_path)
