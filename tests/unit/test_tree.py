"""spfbuild.tree: the include tree of a published SPF record, over an in-memory DNS."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from support.memresolver import MemoryResolver

from spfbuild.dns import Outcome
from spfbuild.recordparse import parse
from spfbuild.tree import (
    MAX_DEPTH,
    MAX_NODES,
    Node,
    Status,
    TermLookup,
    Tree,
    evaluated_terms,
    target_name,
    txt_response_size,
    walk,
)

GOOGLE = {
    "_spf.google.com": "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com ~all",
    "_netblocks.google.com": "v=spf1 ip4:64.233.160.0/19 ~all",
    "_netblocks2.google.com": "v=spf1 ip6:2001:4860:4000::/36 ~all",
}


def dns(records: dict[str, str] | None = None) -> MemoryResolver:
    resolver = MemoryResolver()
    for name, text in (records or {}).items():
        resolver.txt(name, text)
    return resolver


def tree_of(domain: str, resolver: MemoryResolver) -> Tree:
    return asyncio.run(walk(domain, resolver))


def labels(node: Node) -> list[str]:
    return [b.via or b.domain if isinstance(b, Node) else b.term for b in node.branches]


class TestShapeAndCost:
    def test_includes_are_followed_and_each_branch_costs_its_subtree(self) -> None:
        resolver = dns({**GOOGLE, "example.com": "v=spf1 include:_spf.google.com ip4:192.0.2.1 -all"})
        tree = tree_of("example.com", resolver)
        assert tree.lookups == 3
        (google,) = tree.root.children
        assert (google.via, google.domain, google.lookups, google.depth) == (
            "include:_spf.google.com", "_spf.google.com", 3, 1,
        )
        assert [c.lookups for c in google.children] == [1, 1]
        assert tree.root.record == "v=spf1 include:_spf.google.com ip4:192.0.2.1 -all"

    def test_branches_keep_evaluation_order_with_redirect_last(self) -> None:
        resolver = dns({
            "example.com": "v=spf1 redirect=r.example.com a include:i.example.com mx",
            "r.example.com": "v=spf1 -all",
            "i.example.com": "v=spf1 -all",
        })
        root = tree_of("example.com", resolver).root
        assert labels(root) == ["a", "include:i.example.com", "mx", "redirect=r.example.com"]
        assert root.own_lookups == 4 and root.lookups == 4

    def test_a_record_included_twice_appears_and_costs_twice_but_is_asked_once(self) -> None:
        resolver = dns({
            "example.com": "v=spf1 include:a.example.com include:b.example.com -all",
            "a.example.com": "v=spf1 include:shared.example.net ~all",
            "b.example.com": "v=spf1 include:shared.example.net ~all",
            "shared.example.net": "v=spf1 a:host.example.net ~all",
        }).add("host.example.net", "A", "192.0.2.7")
        tree = tree_of("example.com", resolver)
        assert tree.lookups == 6  # 2 x (include a/b + include shared + a)
        assert [n.domain for _, n in tree.nodes()].count("shared.example.net") == 2
        asked = Counter((q.name, q.rdtype) for q in resolver.queries)
        assert asked[("shared.example.net", "TXT")] == 1
        assert max(asked.values()) == 1

    def test_terms_after_all_and_a_redirect_beside_all_are_not_followed_or_counted(self) -> None:
        resolver = dns({"example.com": "v=spf1 a -all include:late.example.com redirect=r.example.com"})
        tree = tree_of("example.com", resolver)
        assert labels(tree.root) == ["a"] and tree.lookups == 1
        assert ("late.example.com", "TXT") not in resolver.calls

    def test_paths_locate_nodes(self) -> None:
        resolver = dns({**GOOGLE, "example.com": "v=spf1 mx include:_spf.google.com -all"})
        tree = tree_of("example.com", resolver)
        paths = {n.domain: path for path, n in tree.nodes()}
        assert paths == {"example.com": (), "_spf.google.com": (0,), "_netblocks.google.com": (0, 0),
                         "_netblocks2.google.com": (0, 1)}
        assert tree.node((0, 1)).domain == "_netblocks2.google.com"


class TestRecordSelection:
    @pytest.mark.parametrize(
        ("build", "status"),
        [
            (lambda r: r, Status.NXDOMAIN),
            (lambda r: r.add("example.com", "A", "192.0.2.1"), Status.NODATA),
            (lambda r: r.txt("example.com", "google-site-verification=x"), Status.NONE),
            (lambda r: r.txt("example.com", "v=spf1 -all", "v=spf1 ~all"), Status.MULTIPLE),
            (lambda r: r.fail("example.com", Outcome.SERVFAIL), Status.TEMPERROR),
        ],
        ids=["nxdomain", "nodata", "none", "multiple", "temperror"],
    )
    def test_root_without_one_record_says_why(self, build: object, status: Status) -> None:
        resolver = build(MemoryResolver())  # type: ignore[operator]
        tree = tree_of("example.com", resolver)
        assert tree.root.status is status
        assert tree.root.record is None and tree.lookups == 0 and tree.root.message

    def test_temperror_message_names_the_question_and_server(self) -> None:
        resolver = dns({"example.com": "v=spf1 include:down.example.net -all"}).fail("down.example.net")
        (child,) = tree_of("example.com", resolver).root.children
        assert child.status is Status.TEMPERROR
        assert child.message == "timeout: no answer from memory for down.example.net TXT"

    def test_spf_record_is_picked_among_other_txt_records(self) -> None:
        resolver = MemoryResolver().txt("example.com", "MS=ms123", "v=spf1 -all", "v=spf10 x")
        root = tree_of("example.com", resolver).root
        assert root.status is Status.OK and root.record == "v=spf1 -all"
        assert root.fetched is not None and root.fetched.txt_records == 3

    def test_a_record_with_syntax_errors_is_still_walked(self) -> None:
        resolver = dns({"example.com": "v=spf1 ip4:1.2.3.999 include:i.example.com -all",
                        "i.example.com": "v=spf1 -all"})
        root = tree_of("example.com", resolver).root
        assert root.parsed is not None and not root.parsed.ok
        assert [c.domain for c in root.children] == ["i.example.com"]


class TestLoopsAndBounds:
    def test_loop_ends_in_a_leaf_with_the_cycle_path(self) -> None:
        resolver = dns({"a.example": "v=spf1 include:b.example -all", "b.example": "v=spf1 include:a.example ~all"})
        tree = tree_of("a.example", resolver)
        leaf = tree.node((0, 0))
        assert leaf.status is Status.LOOP and leaf.message == "a.example -> b.example -> a.example"
        assert not leaf.children and tree.lookups == 2

    def test_redirect_to_itself_is_a_loop(self) -> None:
        leaf = tree_of("a.example", dns({"a.example": "v=spf1 redirect=a.example"})).node((0,))
        assert leaf.status is Status.LOOP and leaf.message == "a.example -> a.example"

    def test_chain_deeper_than_the_bound_is_cut(self) -> None:
        count = MAX_DEPTH + 5
        resolver = dns({f"d{i}.example": f"v=spf1 include:d{i + 1}.example -all" for i in range(count)})
        tree = tree_of("d0.example", resolver)
        assert tree.truncated
        deepest = max((n for _, n in tree.nodes()), key=lambda n: n.depth)
        assert deepest.status is Status.TRUNCATED and deepest.depth == MAX_DEPTH + 1
        assert tree.lookups == MAX_DEPTH + 1  # a lower bound, flagged by `truncated`

    def test_a_doubling_tree_stops_at_the_node_bound(self) -> None:
        resolver = dns({f"n{i}.example": f"v=spf1 include:n{i + 1}.example include:n{i + 1}.example -all"
                        for i in range(30)})
        tree = tree_of("n0.example", resolver)
        assert tree.truncated
        # Past the bound, the records still open on the path each end in "not followed" leaves.
        assert sum(1 for _ in tree.nodes()) <= MAX_NODES + 2 * MAX_DEPTH
        assert len(resolver.queries) < 100  # each record is still fetched once


class TestTargets:
    def test_sender_dependent_targets_are_counted_but_not_followed(self) -> None:
        resolver = dns({"example.com": "v=spf1 include:%{i}._spf.example.com exists:%{i}.x.example.com ptr -all"})
        root = tree_of("example.com", resolver).root
        (child,) = root.children
        assert (child.status, child.domain, child.lookups) == (Status.DYNAMIC, "%{i}._spf.example.com", 1)
        assert [t.target for t in root.terms] == [None, None]
        assert root.lookups == 3 and len(resolver.queries) == 1

    def test_current_domain_macro_is_expanded(self) -> None:
        assert target_name("_spf.%{d}", "example.com") == "_spf.example.com"
        assert target_name("%{d2}", "mail.example.com") == "example.com"
        assert target_name("%{l}.example.com", "example.com") is Status.DYNAMIC
        assert target_name("x" * 64 + ".example.com", "example.com") is Status.INVALID
        assert target_name(None, "Example.com") == "Example.com"
        assert target_name("Spf.Example.COM.", "example.com") == "spf.example.com"


class TestAddressTerms:
    def test_a_collects_both_families_and_reports_void_per_family(self) -> None:
        resolver = dns({"example.com": "v=spf1 a a:v6.example.com a:gone.example.com -all"})
        resolver.add("example.com", "A", "192.0.2.1").add("example.com", "AAAA", "2001:db8::1")
        resolver.add("v6.example.com", "AAAA", "2001:db8::6")
        tree = tree_of("example.com", resolver)
        own, v6, gone = tree.root.terms
        assert own.addresses == ("192.0.2.1", "2001:db8::1") and own.void == frozenset()
        assert v6.void == {"ipv4"} and gone.void == {"ipv4", "ipv6"}
        assert tree.root.void_lookups("ipv4") == 2 and tree.root.void_lookups("ipv6") == 1
        assert tree.void_lookups == 2

    def test_mx_resolves_exchanges_in_preference_order_then_their_addresses(self) -> None:
        resolver = dns({"example.com": "v=spf1 mx -all"})
        resolver.add("example.com", "MX", (20, "mx2.example.com"), (10, "mx1.example.com"))
        resolver.add("mx1.example.com", "A", "192.0.2.1").add("mx2.example.com", "AAAA", "2001:db8::2")
        (term,) = tree_of("example.com", resolver).root.terms
        assert term.exchanges == ("mx1.example.com", "mx2.example.com")
        assert term.addresses == ("192.0.2.1", "2001:db8::2")
        assert term.void == frozenset() and term.problem is None

    def test_mx_over_ten_names_is_a_problem_and_hosts_are_not_asked(self) -> None:
        resolver = dns({"example.com": "v=spf1 mx -all"})
        resolver.add("example.com", "MX", *((i, f"m{i}.example.com") for i in range(11)))
        (term,) = tree_of("example.com", resolver).root.terms
        assert term.problem == "example.com has 11 MX names; the limit is 10"
        assert not any(q.name.startswith("m") for q in resolver.queries)

    def test_mx_without_records_and_exists_without_address_are_void_for_everyone(self) -> None:
        resolver = dns({"example.com": "v=spf1 mx exists:gone.example.com -all"})
        mx, exists = tree_of("example.com", resolver).root.terms
        assert mx.void == exists.void == {"ipv4", "ipv6"}

    def test_dns_failures_of_terms_are_kept_with_the_term(self) -> None:
        resolver = dns({"example.com": "v=spf1 a:down.example.net -all"}).fail("down.example.net", Outcome.SERVFAIL)
        (term,) = tree_of("example.com", resolver).root.terms
        assert term.errors == ("SERVFAIL from memory for down.example.net A",
                               "SERVFAIL from memory for down.example.net AAAA")

    def test_terms_are_values(self) -> None:
        resolver = dns({"example.com": "v=spf1 a -all"}).add("example.com", "A", "192.0.2.1")
        (term,) = tree_of("example.com", resolver).root.terms
        assert isinstance(term, TermLookup) and term.term == "a" and term.lookups == 1
        with pytest.raises(AttributeError):
            term.target = "x"  # type: ignore[misc]


class TestHelpers:
    def test_evaluated_terms_stop_at_all_and_put_redirect_last(self) -> None:
        record = parse("v=spf1 redirect=r.example mx -all a").record
        assert [str(t) for t in evaluated_terms(record)] == ["mx", "-all"]
        record = parse("v=spf1 redirect=r.example mx").record
        assert [str(t) for t in evaluated_terms(record)] == ["mx", "redirect=r.example"]

    def test_txt_response_size_counts_header_question_and_every_record(self) -> None:
        # 12 header + (11 name bytes + 2 + 4) question + (12 + 11 + 1) for "v=spf1 -all"
        assert txt_response_size("example.com", ("v=spf1 -all",)) == 12 + 17 + 24
        # a 300-byte record needs two character-strings, so two length bytes
        assert txt_response_size("example.com", ("x" * 300,)) == 12 + 17 + 12 + 300 + 2
