"""Packing terms into the main record and chained records: byte budgets and stability."""

from __future__ import annotations

import pytest

from spfbuild.pack import OverChains, PackError, pack, pack_offloading, size


def ranges(prefix: str, count: int) -> list[str]:
    return [f"ip4:{prefix}.{i}.0/24" for i in range(count)]


def name(n: int) -> str:
    return f"_spf{n}.example.com"


def test_everything_inline_when_it_fits() -> None:
    packed = pack([ranges("198.18", 3)], [], ["-all"], 450, 450, name)
    assert packed.chains == ()
    assert packed.main_text() == "v=spf1 ip4:198.18.0.0/24 ip4:198.18.1.0/24 ip4:198.18.2.0/24 -all"


def test_overflow_goes_to_chained_records_within_budgets() -> None:
    groups = [ranges("198.18", 30), ranges("198.19", 30)]
    packed = pack(groups, [], ["include:spf.protection.outlook.com", "-all"], 450, 450, name)
    assert size(packed.main) <= 450
    assert all(size(chain) <= 450 for chain in packed.chains)
    assert packed.main[-2:] == ("include:spf.protection.outlook.com", "-all")
    includes = [t for t in packed.main if t.startswith("include:_spf")]
    assert includes == [f"include:{name(n)}" for n in range(1, len(packed.chains) + 1)]
    placed = [t for t in packed.main if t.startswith("ip4:")] + [t for c in packed.chains for t in c]
    assert placed == groups[0] + groups[1]


def test_a_cap_on_chained_records_refuses_a_packing_that_needs_more_and_changes_no_other() -> None:
    groups = [ranges("198.18", 30), ranges("198.19", 30)]
    free = pack(groups, [], ["-all"], 450, 450, name)
    assert len(free.chains) == 2
    assert pack(groups, [], ["-all"], 450, 450, name, max_chains=2) == free
    with pytest.raises(OverChains, match="more than 1 chained records"):
        pack(groups, [], ["-all"], 450, 450, name, max_chains=1)
    with pytest.raises(OverChains):
        pack(groups, [], ["-all"], 450, 450, name, dense=True, max_chains=0)


def test_a_change_in_one_group_rewrites_few_chained_records() -> None:
    groups = [ranges("198.18", 25), ranges("198.19", 10), ranges("198.20", 10), ranges("198.21", 10)]
    before = pack(groups, [], ["-all"], 450, 450, name)
    changed = [groups[0], groups[1], [*groups[2], "ip4:203.0.113.0/24"], groups[3]]
    after = pack(changed, [], ["-all"], 450, 450, name)
    rewritten = [i for i, (a, b) in enumerate(zip(before.chains, after.chains, strict=False)) if a != b]
    assert len(rewritten) <= 1


def test_a_group_that_fits_one_record_is_not_split() -> None:
    groups = [ranges("198.18", 5), ranges("198.19", 12), ranges("198.20", 12)]
    packed = pack(groups, [], ["-all"], 120, 450, name)
    for group in groups[1:]:
        assert any(set(group) <= set(chain) for chain in packed.chains)


def test_sizes_count_wire_bytes_of_255_byte_strings() -> None:
    terms = ranges("198.18", 30)
    text = "v=spf1 " + " ".join(terms)
    strings = -(-len(text) // 255)
    assert size(terms) >= len(text) + strings


def test_terms_that_must_stay_inline_and_do_not_fit_are_an_error() -> None:
    with pytest.raises(PackError, match=r"need .* bytes, over its budget of 64"):
        pack([], [], ranges("198.18", 10), 64, 450, name)


def test_closing_ranges_over_the_main_budget_go_behind_a_qualified_include_in_place() -> None:
    fails = [f"-ip4:198.18.{2 * n}.0/24" for n in range(30)]
    after = [*fails[:2], "include:_spf.crm.example", *fails[2:], "~all"]
    with pytest.raises(PackError, match="the terms that must stay in the main record need"):
        pack([["ip4:192.0.2.0/24"]], [], after, 450, 450, name)
    packed = pack_offloading([["ip4:192.0.2.0/24"]], after, 450, 450, name)
    # The largest run moved, in place and with its qualifier; the short one and the kept term stay.
    assert packed.main == ("ip4:192.0.2.0/24", *fails[:2], "include:_spf.crm.example",
                           "-include:_spf1.example.com", "-include:_spf2.example.com", "~all")
    assert [t for chain in packed.chains for t in chain] == [f.removeprefix("-") for f in fails[2:]]
    assert all(size(chain) <= 450 for chain in packed.chains)
