"""Composing a record: catalogue expansion, deduplication, range collapsing, existing records."""

from __future__ import annotations

import pytest

from spfbuild.catalogue import load_catalogue
from spfbuild.compose import compose, declare
from spfbuild.config import parse_config
from spfbuild.rendering import RenderError, render_domain

CATALOGUE = load_catalogue()


def record_for(senders: str, policy: str = "fail", existing: str | None = None, domain: str = "example.com") -> str:
    text = f"domain: {domain}\n"
    if policy:
        text += f"policy: {policy}\n"
    if existing:
        text += f"existing: '{existing}'\n"
    text += "senders:\n" + senders
    (spec,) = parse_config(text, "t.yaml", CATALOGUE).domains
    return str(compose(spec, CATALOGUE).record)


class TestExistingRecordsFromVendorDocs:
    @pytest.mark.parametrize(
        ("existing", "expected"),
        [
            ("v=spf1 mx ~all", "v=spf1 mx include:_netblocks.mimecast.com ~all"),
            ("v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.123 a -all",
             "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.123 a include:_netblocks.mimecast.com -all"),
            ("v=spf1 ?include:example.com -all", "v=spf1 ?include:example.com include:_netblocks.mimecast.com -all"),
        ],
    )
    def test_mimecast_global_is_inserted_before_all(self, existing: str, expected: str) -> None:
        assert record_for("  - provider: mimecast\n", policy="", existing=existing) == expected

    def test_an_existing_regional_or_older_mimecast_reference_is_replaced_in_place(self) -> None:
        assert record_for("  - provider: mimecast\n", policy="",
                          existing="v=spf1 include:eu._netblocks.mimecast.com mx -all") == \
            "v=spf1 include:_netblocks.mimecast.com mx -all"
        assert record_for("  - provider: mimecast\n    region: eu\n", policy="",
                          existing="v=spf1 include:_netblocks2.mimecast.com mx -all") == \
            "v=spf1 include:eu._netblocks.mimecast.com mx -all"

    def test_usb_stands_apart_from_global(self) -> None:
        assert record_for("  - provider: mimecast\n", policy="",
                          existing="v=spf1 include:usb._netblocks.mimecast.com -all") == \
            "v=spf1 include:usb._netblocks.mimecast.com include:_netblocks.mimecast.com -all"

    def test_policy_replaces_the_existing_all(self) -> None:
        assert record_for("  - mx: true\n", policy="fail", existing="v=spf1 a ~all") == "v=spf1 a mx -all"

    def test_existing_redirect_and_modifiers_stay_last(self) -> None:
        assert record_for("  - provider: google\n", policy="", existing="v=spf1 a redirect=_spf.example.net") == \
            "v=spf1 a include:_spf.google.com redirect=_spf.example.net"


class TestDeduplication:
    def test_identical_terms_once(self) -> None:
        assert record_for("  - mx: true\n  - mx: example.com\n  - a: mail.example.com\n  - a: MAIL.example.com.\n") \
            == "v=spf1 mx a:mail.example.com -all"

    def test_include_reached_directly_and_through_a_provider_once(self) -> None:
        assert record_for("  - include: spf.protection.outlook.com\n  - provider: office365\n") == \
            "v=spf1 include:spf.protection.outlook.com -all"

    def test_mimecast_global_supersedes_regions_but_not_usb(self) -> None:
        senders = ("  - provider: mimecast\n    region: eu\n  - provider: mimecast\n"
                   "  - provider: mimecast\n    region: usb\n")
        assert record_for(senders) == \
            "v=spf1 include:_netblocks.mimecast.com include:usb._netblocks.mimecast.com -all"

    def test_ranges_are_merged_collapsed_and_covered_ones_dropped(self) -> None:
        senders = ("  - ip4: [198.51.100.0/25, 198.51.100.128/25, 198.51.100.7]\n"
                   "  - ip6: [2001:db8::/48, 2001:db8::1]\n  - ip4: [203.0.113.9]\n")
        assert record_for(senders) == "v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.9 ip6:2001:db8::/48 -all"

    def test_ranges_with_different_qualifiers_are_not_merged_across(self) -> None:
        senders = ("  - ip4: [198.51.100.0/25]\n  - include: spf.partner.example\n    qualifier: neutral\n"
                   "  - ip4: [198.51.100.128/25]\n")
        assert record_for(senders) == \
            "v=spf1 ip4:198.51.100.0/25 ?include:spf.partner.example ip4:198.51.100.128/25 -all"

    def test_a_range_shadowed_by_an_earlier_one_is_dropped(self) -> None:
        senders = "  - ip4: [198.51.100.0/24]\n  - mx: true\n    qualifier: softfail\n  - ip4: [198.51.100.9]\n"
        assert record_for(senders) == "v=spf1 ip4:198.51.100.0/24 ~mx -all"

    def test_declaration_order_is_kept_and_all_comes_last(self) -> None:
        senders = "  - provider: google\n  - ip4: [192.0.2.1]\n  - provider: office365\n"
        assert record_for(senders, policy="softfail") == \
            "v=spf1 include:_spf.google.com ip4:192.0.2.1 include:spf.protection.outlook.com ~all"


class TestRenderChecks:
    def spec(self, senders: str) -> object:
        return parse_config(f"domain: example.com\npolicy: fail\nsenders:\n{senders}", "t.yaml", CATALOGUE).domains[0]

    def test_lookup_estimate_over_budget_points_at_flatten(self) -> None:
        senders = "  - provider: google\n  - provider: mimecast\n"
        with pytest.raises(RenderError, match=r"example.com: .*11 DNS lookups, over the budget of 10; run `spfbuild flatten`"):
            render_domain(self.spec(senders), CATALOGUE)  # type: ignore[arg-type]

    def test_catalogue_costs_are_used(self) -> None:
        senders = "  - provider: google\n  - provider: mimecast\n    region: eu\n  - include: spf.partner.example\n"
        rendered = render_domain(self.spec(senders), CATALOGUE)  # type: ignore[arg-type]
        assert rendered.composition.lookups == 4 + 1 + 1
        assert rendered.composition.lookups_known is False

    def test_too_many_terms_fail_the_lint(self) -> None:
        senders = "".join(f"  - include: s{i}.example.net\n" for i in range(11))
        with pytest.raises(RenderError, match=r"example.com: the rendered record fails SPF400"):
            render_domain(self.spec(senders), CATALOGUE)  # type: ignore[arg-type]

    def test_a_large_record_is_split_into_255_byte_strings(self) -> None:
        senders = "  - ip4: [" + ", ".join(f"198.18.{i}.{j}" for i in range(0, 40, 2) for j in (1, 3)) + "]\n"
        rendered = render_domain(self.spec(senders), CATALOGUE)  # type: ignore[arg-type]
        strings = rendered.record_set.main.strings
        assert len(strings) == 3 and all(len(s.encode()) <= 255 for s in strings)
        assert "".join(strings) == rendered.value


class TestTheDeclarationAsWritten:
    """`declare` is what flatten's self-check compares against: catalogue expanded, nothing merged."""

    def spec(self, text: str) -> object:
        return parse_config(text, "t.yaml", CATALOGUE).domains[0]

    def test_repeats_ranges_and_covered_regions_stay_as_written(self) -> None:
        spec = self.spec("domain: example.com\npolicy: fail\nsenders:\n"
                         "  - ip4: [198.51.100.0/25, 198.51.100.128/25]\n  - include: spf.partner.example\n"
                         "  - include: spf.partner.example\n  - provider: mimecast\n    region: eu\n"
                         "  - provider: mimecast\n")
        assert str(declare(spec, CATALOGUE).record) == (  # type: ignore[arg-type]
            "v=spf1 ip4:198.51.100.0/25 ip4:198.51.100.128/25 include:spf.partner.example include:spf.partner.example "
            "include:eu._netblocks.mimecast.com include:_netblocks.mimecast.com -all")
        assert str(compose(spec, CATALOGUE).record) == (  # type: ignore[arg-type]
            "v=spf1 ip4:198.51.100.0/24 include:spf.partner.example include:_netblocks.mimecast.com -all")

    def test_an_existing_record_keeps_its_place_and_its_all(self) -> None:
        spec = self.spec("domain: example.com\nexisting: 'v=spf1 include:eu._netblocks.mimecast.com mx ~all'\n"
                         "senders: [provider: mimecast, ip4: [203.0.113.0/24]]\n")
        assert str(declare(spec, CATALOGUE).record) == (  # type: ignore[arg-type]
            "v=spf1 include:_netblocks.mimecast.com mx ip4:203.0.113.0/24 ~all")

    def test_composing_from_a_declaration_already_built_gives_the_same_record(self) -> None:
        spec = self.spec("domain: example.com\nexisting: 'v=spf1 include:eu._netblocks.mimecast.com mx ~all'\n"
                         "senders: [provider: mimecast, provider: google, ip4: [203.0.113.0/25, 203.0.113.128/25]]\n")
        declared = declare(spec, CATALOGUE)  # type: ignore[arg-type]
        assert compose(spec, CATALOGUE, declared=declared) == compose(spec, CATALOGUE)  # type: ignore[arg-type]


class TestSharedProviderTerms:
    """Every domain that declares a provider alike gets the same term objects: what a term computes
    of itself (its network, its text) is computed once per run, not once per domain."""

    def specs(self, count: int, provider: str = "  - provider: amazon-ses\n") -> list[object]:
        indented = "".join(f"    {line}\n" for line in provider.splitlines())
        text = "defaults:\n  policy: fail\ndomains:\n" + "".join(
            f"  c{n}.example:\n    senders:\n{indented}      - ip4: [10.0.0.{n}]\n"
            for n in range(count))
        return list(parse_config(text, "t.yaml", CATALOGUE).domains)

    def test_two_domains_share_their_providers_terms_but_not_their_own(self) -> None:
        first, second = (declare(s, CATALOGUE).terms for s in self.specs(2))  # type: ignore[arg-type]
        assert first[0].term is second[0].term  # include:amazonses.com
        assert first[1].term != second[1].term  # each domain's own range
        assert first[0].sources[0].line != second[0].sources[0].line  # each domain's own config line

    def test_a_provider_declared_with_another_qualifier_gets_its_own_terms(self) -> None:
        (plain,) = self.specs(1)
        (soft,) = self.specs(1, "  - provider: amazon-ses\n    qualifier: softfail\n")
        a = declare(plain, CATALOGUE).terms[0].term  # type: ignore[arg-type]
        b = declare(soft, CATALOGUE).terms[0].term  # type: ignore[arg-type]
        assert str(a) == "include:amazonses.com" and str(b) == "~include:amazonses.com"
