"""Records that fit must be emitted: the declarations flattening used to refuse, each flattened
against a real BIND 9 within the budgets, and judged by two evaluators, pyspf (the independent
oracle) and the project's own, at every range boundary: every address keeps its declared result."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from support.named import NamedFactory, fixture_zones
from support.pyspf_oracle import Oracle

import spfbuild
from bind.test_flatten import addresses_for, zone
from spfbuild.catalogue import load_catalogue
from spfbuild.compose import compose
from spfbuild.dns import Resolver
from spfbuild.evaluation import check_host
from spfbuild.txt import quote_all, split_strings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import worlds  # type: ignore[import-not-found]  # the benchmark world: the 17-sender tenant

EXCLUSIONS = " ".join(f"-ip4:10.12.1.{n}" for n in range(1, 21))
FAILS = " ".join(f"-ip4:198.18.{2 * n}.0/24" for n in range(30))  # thirty ranges no block joins
SPREAD = " ".join(f"-ip4:10.{n}.1.1" for n in range(1, 21))  # one excepted host in each of twenty /16s
PARTNER = " ".join(f"ip4:172.16.{n}.0/24" for n in range(30))

NX_INCLUDE = "v=spf1 include:%{d}.nx.example ip4:198.51.100.0/24 -all"

# Made-up records on documentation and private ranges, served as fits.test.
FITS_RECORDS = [
    ("p.fits.test", quote_all(split_strings(f"v=spf1 {EXCLUSIONS} ip4:10.0.0.0/8 -all"))),
    ("spf.partner.fits.test", quote_all(split_strings(f"v=spf1 {PARTNER} -all"))),
    ("spread.fits.test", quote_all(split_strings(f"v=spf1 {SPREAD} ip4:10.0.0.0/8 include:spf.partner.fits.test "
                                                 "-all"))),
    ("v1.fits.test", '"not an address record"'),  # the name exists, with no A or AAAA
]

CASES = {
    # Dense packing: the stable layout (each sender's ranges in its own chained record) is over.
    "tenant": worlds.TENANT_CONFIG.split("\n", 1)[1],
    # The declared record (1 lookup) is within the limits: it is a candidate as it stands.
    "exclusions": "policy: fail\nsenders:\n  - include: p.fits.test\n",
    # 2 lookups flattened into 1: the twenty excepted hosts and their /8 as one chained record
    # (`-ip4:... ip4:10.0.0.0/8`), where the fewest exact blocks (about 460) need twenty.
    "covering": "policy: fail\nsenders:\n  - include: spread.fits.test\nflatten:\n  max_lookups: 1\n",
    # Thirty fail ranges are over the main record's budget by themselves: they go to chained
    # records behind `-include:`, which fails exactly the addresses those records pass.
    "offloaded": f'existing: "v=spf1 {FAILS} ip4:192.0.2.0/24 ~all"\n',
    # A README-style config: two includes, one neutral, 30 ranges; 5 lookups as declared.
    "readme": "policy: softfail\nsenders:\n  - include: _spf.google.com\n  - include: spf.partner.fits.test\n"
              "    qualifier: neutral\n",
    # Kept terms spend void lookups too: three `a:` without addresses are over the limit of 2.
    "voids": 'existing: "v=spf1 a:v1.fits.test a:v2.fits.test a:v3.fits.test ip4:192.0.2.0/24 -all"\n',
    # A name DNS cannot carry is no data, as receivers see it; not a refusal.
    "invalid": 'existing: "v=spf1 a:host..example.net ip4:192.0.2.0/24 -all"\n',
    # `exists:` without macros does not depend on the client: flattened like `a`.
    "exists": 'existing: "v=spf1 exists:host.flat.test exists:v2.fits.test ip4:192.0.2.0/24 ~all"\n'
              "flatten:\n  max_lookups: 0\n",
    # An include whose target does not exist is permerror for every client that reaches it: kept
    # where it stands, with nothing moved ahead of it.
    "nxinclude": f'existing: "{NX_INCLUDE}"\n',
}


def _zones(extra: dict[str, str] | None = None) -> dict[str, str]:
    zones = fixture_zones()
    zones |= {origin: worlds.zone_text(origin, records) for origin, records in worlds.EXTRA_ZONES.items()
              if origin != worlds.TENANT}
    zones["fits.test"] = zone("fits.test", FITS_RECORDS)
    zones["nx.example"] = zone("nx.example", [])  # served, so its names do not exist (NXDOMAIN)
    return zones | (extra or {})


def _serve(records: list[spfbuild.Record], origin: str) -> str:
    return zone(origin, [(r.name, quote_all(split_strings(r.text))) for r in records])


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_declaration_that_fits_is_flattened_and_keeps_every_result(name: str, named_factory: NamedFactory,
                                                                     tmp_path: Path) -> None:
    body = CASES[name]
    world = named_factory(_zones())
    after = tmp_path / "after.yaml"
    after.write_text(f"domain: {name}.after.test\n{body}", encoding="utf-8")
    (flattened,) = spfbuild.flatten(spfbuild.load_config(after), nameservers=[world.nameserver])
    assert flattened.error is None, flattened.error
    assert all(len(r.text.encode()) + len(split_strings(r.text)) <= 450 for r in flattened.records)
    if name == "offloaded":
        assert flattened.records[0].text == ("v=spf1 ip4:192.0.2.0/24 -include:_spf1.offloaded.after.test "
                                             "-include:_spf2.offloaded.after.test ~all")
        assert all(r.text.startswith("v=spf1 ip4:198.18.") for r in flattened.records[1:])
    if name == "covering":
        assert len(flattened.records) == 2, [r.text for r in flattened.records]
        chained = flattened.records[1]
        assert chained.text.startswith(f"v=spf1 {SPREAD} ip4:10.0.0.0/8 ")

    before = tmp_path / "before.yaml"
    before.write_text(f"domain: {name}.before.test\n{body}", encoding="utf-8")
    (spec,) = spfbuild.load_config(before).domains
    declared = str(compose(spec, load_catalogue()).record)  # the declaration, whatever its size

    server = named_factory(_zones({"before.test": zone("before.test", [(spec.domain, quote_all(split_strings(declared)))]),
                                   "after.test": _serve(list(flattened.records), "after.test")}))
    texts = [declared, *(r.text for r in flattened.records)]
    texts += [worlds.zone_text(o, rs) for o, rs in worlds.EXTRA_ZONES.items()] + [t for _, t in FITS_RECORDS]
    addresses = addresses_for(texts, count=60)
    oracle = Oracle(server.nameserver)

    async def ours() -> list[tuple[str, str, str, int]]:
        resolver = Resolver([server.nameserver], timeout=2)
        out = []
        for ip in addresses:
            old = await check_host(ip, f"{name}.before.test", f"postmaster@{name}.before.test", resolver,
                                   max_lookups=1000, max_void_lookups=1000)
            new = await check_host(ip, f"{name}.after.test", f"postmaster@{name}.after.test", resolver)
            out.append((ip, old.result, new.result, new.lookups))
        return out

    evaluated = asyncio.run(ours())
    assert [f"{ip}: {old} declared, {new} flattened" for ip, old, new, _ in evaluated if old != new] == []
    assert max(lookups for *_, lookups in evaluated) <= 10
    differ = [
        f"{ip}: {was} declared, {now} flattened (pyspf)"
        for ip in addresses
        if (was := oracle.result(ip, f"{name}.before.test", lifted=True))
        != (now := oracle.result(ip, f"{name}.after.test"))
    ]
    assert differ == []


def test_an_include_of_a_name_that_does_not_exist_keeps_its_place(named_factory: NamedFactory,
                                                                   tmp_path: Path) -> None:
    world = named_factory(_zones())
    path = tmp_path / "nx.yaml"
    path.write_text(f'domain: nx.after.test\nexisting: "{NX_INCLUDE}"\n', encoding="utf-8")
    (flattened,) = spfbuild.flatten(spfbuild.load_config(path), nameservers=[world.nameserver])
    assert flattened.error is None, flattened.error
    assert [r.text for r in flattened.records] == [NX_INCLUDE]
