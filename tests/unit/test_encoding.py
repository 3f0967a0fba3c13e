"""Compact terms for chained records: a covering block after its exceptions, where shorter.

A chained record is reached through include:, so an address it fails is not matched and goes on:
what it passes is all that matters, and it must be exactly the addresses asked for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spfbuild.encoding import chained_terms
from spfbuild.intervals import EMPTY, AddressSet, Block, block_span
from spfbuild.pack import pack

ROOM = 430


def passed(terms: tuple[str, ...]) -> AddressSet:
    """What a chained record of `terms` passes: first match wins, `-` terms stop an address."""
    decided, passes = EMPTY, EMPTY
    for term in (t for string in terms for t in string.split()):
        network = AddressSet.parse([term.lstrip("-").split(":", 1)[1]])
        if not term.startswith("-"):
            passes |= network - decided
        decided |= network
    return passes


def test_hosts_excepted_from_a_slash_8_are_written_before_it() -> None:
    hosts = [f"10.12.1.{n}" for n in range(1, 21)]
    mine = AddressSet.parse(["10.0.0.0/8"]) - AddressSet.parse(hosts)
    (covering,) = chained_terms(mine, mine, ROOM)
    # The exceptions as the fewest blocks, then the covering one.
    assert covering == ("-ip4:10.12.1.1 -ip4:10.12.1.2/31 -ip4:10.12.1.4/30 -ip4:10.12.1.8/29 -ip4:10.12.1.16/30 "
                        "-ip4:10.12.1.20 ip4:10.0.0.0/8")
    assert len(mine.blocks) == 23  # what the exact blocks would take


def test_ranges_that_are_shortest_as_they_are_stay_as_they_are() -> None:
    mine = AddressSet.parse(["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"])
    assert chained_terms(mine, mine, ROOM) == ("ip4:192.0.2.0/24", "ip4:198.51.100.0/24", "ip6:2001:db8::/32")


def test_addresses_the_records_pass_anyway_need_no_exception() -> None:
    mine = AddressSet.parse(["192.0.2.0/25", "192.0.2.128/26", "192.0.2.192/27", "192.0.2.224/28"])
    passing = mine | AddressSet.parse(["192.0.2.240/28"])  # another sender's range
    assert chained_terms(mine, passing, ROOM) == ("ip4:192.0.2.0/24",)


def test_a_covering_term_never_outgrows_one_chained_record() -> None:
    hosts = [f"10.{n}.1.1" for n in range(1, 21)]
    mine = AddressSet.parse(["10.0.0.0/8"]) - AddressSet.parse(hosts)
    assert len(chained_terms(mine, mine, ROOM)) == 1
    small = chained_terms(mine, mine, 100)
    assert len(small) > 1 and all(len(term.encode()) <= 100 for term in small)


def test_the_main_record_never_holds_a_covering_term() -> None:
    packed = pack([["ip4:198.51.100.0/24", "-ip4:192.0.2.1 ip4:192.0.2.0/24"]], [], ["-all"], 450, 450,
                  lambda n: f"_spf{n}.example.com")
    assert packed.main == ("ip4:198.51.100.0/24", "include:_spf1.example.com", "-all")
    assert packed.chains == (("-ip4:192.0.2.1 ip4:192.0.2.0/24",),)


blocks = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(20, 32))


@given(st.lists(blocks, min_size=1, max_size=12), st.lists(blocks, max_size=6), st.lists(blocks, max_size=6))
def test_a_chained_record_passes_exactly_what_it_is_asked_to(
    wanted: list[tuple[int, int, int]], holes: list[tuple[int, int, int]], others: list[tuple[int, int, int]]
) -> None:
    def networks(items: list[tuple[int, int, int]]) -> AddressSet:
        return AddressSet.parse([f"10.{a}.{b}.0/{p}" if p <= 24 else f"10.{a}.{b}.{b}/{p}" for a, b, p in items])

    mine = networks(wanted) - networks(holes)
    passing = mine | (networks(others) - networks(holes))
    result = passed(chained_terms(mine, passing, ROOM))
    assert mine - result == EMPTY  # every address asked for
    assert result - passing == EMPTY  # and none that no record passes


def shortest(block: Block, mine: AddressSet, passing: AddressSet, room: int) -> tuple[int, list[str]]:
    """The module's rule written out plainly, block by block from the whole family down: the
    exact pass ranges, or the block after one exception per block of addresses no record
    passes (at most 24), whichever is shorter in bytes (with a space each)."""
    whole = AddressSet.of([block_span(block)])
    if not mine & whole:
        return 0, []
    if not whole - mine:
        return len(block.term()) + 1, [block.term()]
    half = 1 << (block.bits - block.prefixlen - 1)
    low = shortest(Block(block.version, block.first, block.prefixlen + 1), mine, passing, room)
    high = shortest(Block(block.version, block.first + half, block.prefixlen + 1), mine, passing, room)
    best = (low[0] + high[0], low[1] + high[1])
    holes = whole - passing
    exceptions = [f"-{b.term()}" for b in holes.blocks]
    if block.prefixlen == 0 or len(holes.bounds) // 2 > 24 or len(exceptions) > 24:
        return best
    covering = " ".join([*exceptions, block.term()])
    if len(covering) + 1 < best[0] and len(covering) <= room:
        return len(covering) + 1, [covering]
    return best


addresses = st.tuples(st.sampled_from([10, 11, 172]), st.integers(0, 3), st.integers(0, 255), st.integers(12, 32))
addresses6 = st.tuples(st.integers(0, 15), st.integers(0, 3), st.sampled_from([32, 36, 48, 64, 127, 128]))


@given(st.lists(addresses, max_size=12), st.lists(addresses, max_size=12), st.lists(addresses, max_size=6),
       st.lists(addresses6, max_size=4), st.lists(addresses6, max_size=4), st.sampled_from([60, 120, 430]))
def test_the_terms_are_the_shortest_writing_block_by_block(
    wanted: list[tuple[int, int, int, int]], holes: list[tuple[int, int, int, int]],
    others: list[tuple[int, int, int, int]], wanted6: list[tuple[int, int, int]],
    holes6: list[tuple[int, int, int]], room: int,
) -> None:
    def networks(items: list[tuple[int, int, int, int]], items6: list[tuple[int, int, int]]) -> AddressSet:
        return AddressSet.parse([*(f"{a}.{b}.{c}.{c}/{p}" for a, b, c, p in items),
                                 *(f"2001:db8:{a:x}::{b:x}/{p}" for a, b, p in items6)])

    mine = networks(wanted, wanted6) - networks(holes, holes6)
    passing = mine | (networks(others, []) - networks(holes, holes6))
    if len(mine.blocks) == len(mine.bounds) // 2:  # every interval one block: written as they are
        expected = [b.term() for b in mine.blocks]
    else:
        expected = [term for version in (4, 6) for term in shortest(Block(version, 0, 0), mine, passing, room)[1]]
    assert chained_terms(mine, passing, room) == tuple(expected)
