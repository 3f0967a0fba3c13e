"""flatten.mode macro: the main record sends each client to its own name in a compiled zone; kept
terms stay in order; every address keeps its declared result, proved by the self-check."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import replace

import pytest
from support.memresolver import MemoryResolver

from spfbuild.catalogue import load_catalogue
from spfbuild.compiled.check import check_compiled, served_zone
from spfbuild.compiled.zone import ZoneResolver
from spfbuild.config import ConfigError, parse_config
from spfbuild.evaluation import check_host
from spfbuild.flattening import Flattened, flatten_domain
from spfbuild.mechanisms import DNSResolver
from spfbuild.partition import FlattenError

CATALOGUE = load_catalogue()

TENANT = """domain: example.com
policy: softfail
senders:
  - include: _spf.q.test
    qualifier: neutral
  - ip4: [203.0.113.0/28]
    qualifier: fail
  - include: _spf.crm.test
  - include: _spf.p.test
flatten:
  mode: macro
"""


def world(partner: str = "ip4:203.0.113.7", provider: str = "") -> MemoryResolver:
    resolver = MemoryResolver()
    resolver.txt("_spf.p.test", provider or "v=spf1 -ip4:10.1.2.3 ip4:10.0.0.0/8 ip4:192.0.2.0/25 ip6:2001:db8::/33 ~all")
    resolver.txt("_spf.crm.test", "v=spf1 exists:%{i}._spf.crm.test ip4:198.51.100.0/24 -all")
    return resolver.txt("_spf.q.test", f"v=spf1 {partner} -all")


def flatten(text: str, resolver: MemoryResolver | None = None) -> Flattened:
    (spec,) = parse_config(text, "t.yaml", CATALOGUE).domains
    return asyncio.run(flatten_domain(spec, CATALOGUE, resolver or world()))


def result(resolver: MemoryResolver, item: Flattened, ip: str, *, published: bool) -> tuple[str, int, int]:
    """The result for `ip`: of the compiled record (served with its zone) or of the declared one."""
    async def run() -> tuple[str, int, int]:
        if published:
            assert item.compiled is not None
            resolver.txt("compiled.test", item.record_set.main.value)
            view = ZoneResolver(served_zone(item.compiled.compiled), resolver)
            evaluation = await check_host(ip, "compiled.test", "postmaster@compiled.test", view)
        else:
            evaluation = await check_host(ip, "example.com", "postmaster@example.com", resolver)
        return evaluation.result, evaluation.lookups, evaluation.void_lookups
    return asyncio.run(run())


def test_a_term_kept_for_its_macros_is_evaluated_in_the_zone_for_one_compiled_lookup() -> None:
    item = flatten(TENANT)
    assert item.compiled is not None
    label = item.compiled.compiled.label
    assert label.startswith("_spf-m-") and label.endswith(".example.com")
    assert item.record_set.main.value == f"v=spf1 redirect=%{{ir}}.%{{v}}.{label}"
    records = dict(item.compiled.compiled.records())
    # Decided before the kept include: the result alone; after it: the include, then the result.
    assert records[f"7.113.0.203.in-addr.{label}"] == "v=spf1 ?all"
    assert records[f"*.113.0.203.in-addr.{label}"] == "v=spf1 include:_spf.crm.test ~all"
    assert records[f"*.10.in-addr.{label}"] == "v=spf1 include:_spf.crm.test +all"
    assert item.lookups == 3  # the kept include (and the exists in it), the redirect
    assert item.kept == ("include:_spf.crm.test",)


def test_a_term_the_record_must_show_stays_and_what_precedes_it_is_decided_first() -> None:
    item = flatten(TENANT + "  keep: [_spf.crm.test]\n")
    assert item.compiled is not None
    label = item.compiled.compiled.label
    # The neutral include and the -ip4 range come before the kept include: each as a qualified
    # include of its own zone; the pass ranges after it go to the redirect's zone.
    assert item.record_set.main.value == (
        f"v=spf1 -include:%{{ir}}.%{{v}}.f1.{label} ?include:%{{ir}}.%{{v}}.n1.{label} include:_spf.crm.test "
        f"redirect=%{{ir}}.%{{v}}.{label}"
    )
    assert item.lookups == 5  # the two includes, the kept one (and the exists in it), the redirect


def test_a_kept_term_naming_the_domain_itself_stays_in_the_main_record() -> None:
    # %{d} is the domain being evaluated: in the zone's records it would name another domain.
    resolver = world()
    resolver.txt("example.com._spf.crm.test", "v=spf1 ip4:198.51.100.0/24 -all")
    item = flatten(TENANT.replace("include: _spf.crm.test", "include: '%{d}._spf.crm.test'"), resolver)
    assert item.compiled is not None
    label = item.compiled.compiled.label
    assert item.record_set.main.value.endswith(f" include:%{{d}}._spf.crm.test redirect=%{{ir}}.%{{v}}.{label}")


def test_every_address_gets_its_declared_result_in_at_most_the_kept_lookups_plus_the_compiled_ones() -> None:
    resolver = world()
    resolver.txt("example.com", "v=spf1 ?include:_spf.q.test -ip4:203.0.113.0/28 include:_spf.crm.test "
                                "include:_spf.p.test ~all")
    item = flatten(TENANT, resolver)
    for ip in ("203.0.113.7", "203.0.113.8", "203.0.113.16", "10.1.2.3", "10.1.2.4", "10.255.255.255",
               "11.0.0.0", "192.0.2.127", "192.0.2.128", "198.51.100.1", "2001:db8::1", "2001:db8:8000::",
               "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "::"):
        declared = result(resolver, item, ip, published=False)[0]
        compiled, lookups, voids = result(resolver, item, ip, published=True)
        assert compiled == declared, ip
        assert lookups <= item.lookups
        assert voids <= 1  # the kept exists: (answered NXDOMAIN); the compiled part none


def test_without_kept_terms_the_record_is_one_redirect_and_one_lookup() -> None:
    item = flatten(TENANT.replace("  - include: _spf.crm.test\n", ""))
    assert item.compiled is not None
    assert item.record_set.main.value == f"v=spf1 redirect=%{{ir}}.%{{v}}.{item.compiled.compiled.label}"
    assert item.lookups == 1
    assert item.compiled.checked is not None and item.compiled.checked.max_void_lookups == 0


def test_a_pass_range_moves_past_a_kept_pass_term_and_a_fail_range_does_not() -> None:
    # (The kept term named by flatten.keep must stay in the main record.)
    text = TENANT.replace("  - include: _spf.q.test\n    qualifier: neutral\n", "  - ip4: [192.0.2.200]\n")
    text += "  keep: [_spf.crm.test]\n"
    item = flatten(text)
    main = item.record_set.main.value
    assert ".p1." not in main and ".f1." in main


def test_the_self_check_covers_every_block_boundary_of_both_families() -> None:
    item = flatten(TENANT)
    assert item.compiled is not None and item.compiled.checked is not None
    # Each block contributes its first address and the one after it (shared by neighbours).
    starts = {(b.version, b.first) for z in item.compiled.compiled.zones for b in z.blocks}
    assert item.checked > len(starts)


def test_a_wrong_zone_is_caught_by_the_self_check() -> None:
    resolver = world()
    item = flatten(TENANT, resolver)
    publication = item.compiled
    assert publication is not None
    compiled = publication.compiled
    zone = compiled.zones[0]
    broken = [replace(b, value="v=spf1 +all") if b.owner == "3.2.1.10.in-addr" else b for b in zone.blocks]
    tampered = replace(compiled, zones=(replace(zone, blocks=tuple(broken)), *compiled.zones[1:]))

    async def run() -> None:
        from spfbuild.partition import Partition
        from spfbuild.tree import Walker

        partition = Partition(Walker(resolver))
        walker = partition.walker
        from spfbuild.recordparse import parse

        root = await walker.walk_record("example.com", parse(
            "v=spf1 ?include:_spf.q.test -ip4:203.0.113.0/28 include:_spf.crm.test include:_spf.p.test ~all").record)
        await check_compiled(root, walker.graph, publication.segments, tampered, resolver)

    with pytest.raises(FlattenError, match=r"self-check failed: 10\.1\.2\.3 gives pass with the compiled zone"):
        asyncio.run(run())


def test_the_label_follows_the_content_and_a_shared_base_is_shared() -> None:
    shared = TENANT.replace("  mode: macro\n", "  mode: macro\n  macro_zone: _spf.msp.example\n")
    one = flatten(shared)
    other = flatten(shared.replace("domain: example.com", "domain: example.org"))
    assert one.compiled is not None and other.compiled is not None
    assert one.compiled.compiled.label == other.compiled.compiled.label
    assert one.compiled.compiled.label.endswith("._spf.msp.example")
    changed = world(partner="ip4:203.0.113.9")
    assert flatten(TENANT, changed).record_set.records[1].name != flatten(TENANT).record_set.records[1].name


def big_world() -> MemoryResolver:
    """Three records of 100 ranges under the provider's: 7 lookups as declared, over budgets of 4
    and 5, and the ranges need more chained records than the lookups left."""
    ranges = [f"ip4:198.{18 + i // 128}.{2 * (i % 128)}.0/24" for i in range(300)]
    resolver = world(provider="v=spf1 include:a.p.test include:b.p.test include:c.p.test ~all")
    for n, name in enumerate(("a", "b", "c")):
        resolver.txt(f"{name}.p.test", f"v=spf1 {' '.join(ranges[100 * n:100 * (n + 1)])} ~all")
    return resolver


def test_auto_keeps_ranges_when_they_fit_and_compiles_when_they_do_not() -> None:
    fits = flatten(TENANT.replace("mode: macro", "mode: auto"))
    assert fits.compiled is None
    big = flatten(TENANT.replace("mode: macro", "mode: auto\n  max_lookups: 5"), big_world())
    assert big.compiled is not None and big.lookups == 3  # the kept include (its exists), the redirect


def test_too_many_records_are_refused_naming_the_count_and_the_costliest_blocks() -> None:
    with pytest.raises(FlattenError, match=r"example\.com: the compiled zone needs [\d,]+ records, over "
                                           r"flatten\.macro_max_records \(100\); the blocks that cost most: "
                                           r"192\.0\.2\.0/25 \(128 records\)"):
        flatten(TENANT.replace("  mode: macro\n", "  mode: macro\n  macro_max_records: 100\n"))


def test_the_config_refuses_an_unknown_mode_and_a_base_too_long_for_client_names() -> None:
    with pytest.raises(ConfigError, match=r"t\.yaml:11:9: flatten\.mode must be ranges, macro or auto"):
        parse_config(TENANT.replace("mode: macro", "mode: fast"), "t.yaml", CATALOGUE)
    base = ".".join(["a" * 60, "b" * 60, "c" * 40, "example"])  # 170 octets: IPv6 names would be 260
    with pytest.raises(ConfigError, match=r"t\.yaml:12:15: flatten\.macro_zone: compiled names under .* over 253"):
        parse_config(TENANT.replace("  mode: macro\n", f"  mode: macro\n  macro_zone: {base}\n"), "t.yaml",
                     CATALOGUE)
    (spec,) = parse_config(TENANT.replace("mode: macro", "mode: ranges"), "t.yaml", CATALOGUE).domains
    assert spec.flatten.mode == "ranges" and spec.flatten.macro_max_records == 20_000


def test_addresses_are_checked_in_both_families() -> None:
    item = flatten(TENANT)
    assert item.compiled is not None
    names = [r.name for r in item.record_set.records[1:]]
    assert any(n.startswith("*.ip6.") for n in names) and any(n.startswith("*.in-addr.") for n in names)
    assert ipaddress.ip_address("2001:db8::") in ipaddress.ip_network("2001:db8::/33")


def test_addresses_never_move_past_a_kept_include_whose_target_a_macro_names() -> None:
    # The record at %{d}.partner.test is one nobody has seen when the zone is built: it may be
    # missing (permerror for everyone), so 192.0.2.0/24 is decided before it, as declared.
    declared = "v=spf1 ip4:192.0.2.0/24 include:%{d}.partner.test -all"

    def partner(main: str) -> MemoryResolver:
        return world().txt("example.com.partner.test", "v=spf1 ip4:203.0.113.0/24 -all").txt("example.com", main)

    item = flatten(f"domain: example.com\nexisting: {declared}\nflatten:\n  mode: macro\n", partner(declared))
    assert item.compiled is not None
    label = item.compiled.compiled.label
    main = item.record_set.main.value
    assert main == (f"v=spf1 include:%{{ir}}.%{{v}}.p1.{label} include:%{{d}}.partner.test "
                    f"redirect=%{{ir}}.%{{v}}.{label}")

    async def evaluate(ip: str, resolver: MemoryResolver, compiled: bool) -> str:
        assert item.compiled is not None
        view = ZoneResolver(served_zone(item.compiled.compiled), resolver) if compiled else resolver
        return (await check_host(ip, "example.com", "postmaster@example.com", view)).result

    for ip in ("192.0.2.1", "203.0.113.1", "198.51.100.1"):
        assert asyncio.run(evaluate(ip, partner(main), True)) == asyncio.run(evaluate(ip, partner(declared), False))


def test_auto_names_both_reasons_when_neither_mode_fits() -> None:
    with pytest.raises(FlattenError, match=r"needs 3 DNS lookups, over the budget of 2 .*flatten\.mode auto "
                                           r"compiled it because the ranges do not fit: "):
        flatten(TENANT.replace("mode: macro", "mode: auto\n  max_lookups: 2"), big_world())


def test_the_explanation_follows_the_redirect_into_the_zone_with_the_domain_written_out() -> None:
    # After redirect= a receiver takes the explanation of the record it was sent to (RFC 7208
    # section 6.2): the zone's fail records carry the exp=, its %{d} written out.
    config = ("domain: example.com\npolicy: fail\nexisting: 'v=spf1 ip4:192.0.2.0/24 -all exp=why.%{d}'\n"
              "senders:\n  - ip4: [198.51.100.0/24]\nflatten:\n  mode: macro\n")
    item = flatten(config, MemoryResolver().txt("why.example.com", "%{i} may not send for %{d}"))
    assert item.compiled is not None
    records = dict(item.compiled.compiled.records())
    label = item.compiled.compiled.label
    assert records[f"*.in-addr.{label}"] == "v=spf1 -all exp=why.example.com"
    assert records[f"*.2.0.192.in-addr.{label}"] == "v=spf1 +all"  # a pass needs no explanation
    published = MemoryResolver().txt("why.example.com", "%{i} may not send for %{d}")
    published.txt("example.com", item.record_set.main.value)
    declared = MemoryResolver().txt("why.example.com", "%{i} may not send for %{d}")
    declared.txt("example.com", "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all exp=why.%{d}")

    async def explanation(resolver: DNSResolver) -> str | None:
        return (await check_host("203.0.113.9", "example.com", "postmaster@example.com", resolver)).explanation

    assert asyncio.run(explanation(declared)) == "203.0.113.9 may not send for example.com"
    zone = ZoneResolver(served_zone(item.compiled.compiled), published)
    assert asyncio.run(explanation(zone)) == f"203.0.113.9 may not send for 9.113.0.203.in-addr.{label}"
