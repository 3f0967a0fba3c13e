"""check_host() against a real BIND 9 (zones/eval.test.zone, zones/cname.eval.test.zone).

Each test names the RFC 7208 section it shows. The server is authoritative-only, as real
servers are: no recursion, REFUSED for names it does not serve.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter

import pytest
from support.named import NamedFactory, NamedServer

from spfbuild.dns import Outcome, Resolver
from spfbuild.evaluation import Evaluation, check_host, spf_identity


def evaluate(server: NamedServer | str, ip: str, mailfrom: str, helo: str = "", timeout: float = 2.0) -> Evaluation:
    return evaluate_with(resolver_for(server, timeout), ip, mailfrom, helo)


def resolver_for(server: NamedServer | str, timeout: float = 2.0) -> Resolver:
    address = server if isinstance(server, str) else server.nameserver
    return Resolver([address], timeout=timeout)


def evaluate_with(resolver: Resolver, ip: str, mailfrom: str, helo: str = "") -> Evaluation:
    sender, domain = spf_identity(mailfrom, helo)
    return asyncio.run(check_host(ip, domain, sender, resolver, helo=helo))


# ------------------------------------------------------------------ each mechanism (section 5)


@pytest.mark.parametrize(
    ("domain", "ip", "result"),
    [
        ("all-neutral", "192.0.2.1", "neutral"),  # 5.1
        ("ip4", "192.0.2.77", "pass"),  # 5.6
        ("ip4", "198.51.100.1", "fail"),
        ("ip4", "::ffff:192.0.2.77", "pass"),  # 5.6: an IPv4-mapped sender is IPv4
        ("ip6", "2001:DB8:1::25", "pass"),
        ("ip6", "2001:db8:2::25", "fail"),
        ("a", "192.0.2.10", "pass"),  # 5.3: A for an IPv4 sender
        ("a", "2001:db8::10", "pass"),  # 5.3: AAAA for an IPv6 sender
        ("a", "192.0.2.11", "fail"),
        ("a-cidr", "198.51.100.200", "pass"),  # 5.3 dual cidr: /24 for IPv4
        ("a-cidr", "2001:db8:7::ffff", "pass"),  # //64 for IPv6
        ("a-cidr", "2001:db8:8::7", "fail"),
        ("mx", "192.0.2.22", "pass"),  # 5.4
        ("mx", "192.0.2.23", "fail"),
        ("exists", "192.0.2.30", "pass"),  # 5.7
        ("exists", "192.0.2.31", "fail"),
    ],
)
def test_section_5_each_mechanism(named: NamedServer, domain: str, ip: str, result: str) -> None:
    assert evaluate(named, ip, f"user@{domain}.eval.test").result == result


def test_section_5_5_ptr_and_section_7_3_p_macro(named_factory: NamedFactory) -> None:
    server = named_factory(
        {
            "ptr.test": ZONE_HEAD.format(origin="ptr.test")
            + '@ IN TXT "v=spf1 ptr -all"\n'
            + 'p IN TXT "v=spf1 -all exp=why.ptr.test"\n'
            + 'why IN TXT "host %{p} is not allowed"\n'
            + "mail IN A 192.0.2.50\n"
            + "fake IN A 192.0.2.99\n",
            "2.0.192.in-addr.arpa": ZONE_HEAD.format(origin="2.0.192.in-addr.arpa")
            + "50 IN PTR mail.ptr.test.\n"
            + "51 IN PTR fake.ptr.test.\n",
        }
    )
    assert evaluate(server, "192.0.2.50", "a@ptr.test").result == "pass"
    # fake.ptr.test does not resolve back to 192.0.2.51: not a validated name.
    assert evaluate(server, "192.0.2.51", "a@ptr.test").result == "fail"
    # No PTR record at all: no match (and one void lookup).
    unknown = evaluate(server, "192.0.2.52", "a@ptr.test")
    assert (unknown.result, unknown.void_lookups) == ("fail", 1)
    assert evaluate(server, "192.0.2.50", "a@p.ptr.test").explanation == "host mail.ptr.test is not allowed"
    assert evaluate(server, "192.0.2.51", "a@p.ptr.test").explanation == "host unknown is not allowed"


ZONE_HEAD = """$ORIGIN {origin}.
$TTL 300
@ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 900 604800 300
@ IN NS ns.{origin}.
ns IN A 127.0.0.1
"""


# ------------------------------------------------------------------ include and redirect


@pytest.mark.parametrize(
    ("domain", "ip", "result"),
    [
        ("inc", "192.0.2.5", "pass"),  # include pass: match
        ("inc", "198.51.100.5", "fail"),  # include fail: no match, then -all
        ("inc-softfail", "198.51.100.5", "neutral"),  # include softfail: no match, then ?all
        ("inc-none", "192.0.2.5", "permerror"),  # include of a domain without a record
        ("inc-permerror", "192.0.2.5", "permerror"),
        ("inc-refused", "192.0.2.5", "temperror"),  # REFUSED is a DNS error: temperror
        ("redir", "192.0.2.5", "pass"),  # 6.1
        ("redir", "198.51.100.5", "fail"),
        ("redir-none", "192.0.2.5", "permerror"),  # 6.1: target without a record
        ("redir-all", "192.0.2.5", "softfail"),  # 5.1: redirect ignored with an all
    ],
)
def test_section_5_2_include_and_6_1_redirect(named: NamedServer, domain: str, ip: str, result: str) -> None:
    assert evaluate(named, ip, f"user@{domain}.eval.test").result == result


# ------------------------------------------------------------------ limits (section 4.6.4)


def test_section_4_6_4_ten_lookups_is_allowed_eleven_is_permerror(named: NamedServer) -> None:
    at_limit = evaluate(named, "192.0.2.1", "u@limit10.eval.test")
    assert (at_limit.result, at_limit.lookups) == ("pass", 10)
    over = evaluate(named, "192.0.2.1", "u@limit11.eval.test")
    assert over.result == "permerror"
    assert over.problem is not None and "10 DNS lookups" in over.problem


def test_section_4_6_4_two_void_lookups_are_allowed_a_third_is_permerror(named: NamedServer) -> None:
    at_limit = evaluate(named, "192.0.2.1", "u@void2.eval.test")
    assert (at_limit.result, at_limit.void_lookups) == ("pass", 2)
    assert evaluate(named, "192.0.2.1", "u@void3.eval.test").result == "permerror"


def test_section_4_6_4_mx_with_more_than_ten_names_is_permerror(named: NamedServer) -> None:
    assert evaluate(named, "203.0.113.110", "u@mx10.eval.test").result == "pass"
    assert evaluate(named, "203.0.113.111", "u@mx11.eval.test").result == "permerror"


# ------------------------------------------------------------------ explanations (section 6.2)


def test_section_6_2_exp_is_fetched_and_expanded_for_fail(named: NamedServer) -> None:
    evaluation = evaluate(named, "198.51.100.9", "jane.doe@exp.eval.test", helo="mx.sender.example")
    assert evaluation.result == "fail"
    assert evaluation.explanation == (
        "198.51.100.9 may not send for exp.eval.test (jane.doe at exp.eval.test, helo mx.sender.example);"
        " see https://eval.test/why?s=jane.doe%40exp.eval.test"
    )


def test_section_6_2_no_explanation_for_pass_or_when_the_exp_record_is_ambiguous(named: NamedServer) -> None:
    assert evaluate(named, "192.0.2.1", "jane@exp.eval.test").explanation is None
    broken = evaluate(named, "192.0.2.1", "jane@exp-broken.eval.test")
    assert (broken.result, broken.explanation) == ("fail", None)


# ------------------------------------------------------------------ CNAME, TCP, NXDOMAIN/NODATA


def test_cname_chain_inside_the_answer(named: NamedServer) -> None:
    assert evaluate(named, "192.0.2.1", "u@cname-txt.eval.test").result == "pass"
    assert evaluate(named, "198.51.100.7", "u@cname-a.eval.test").result == "pass"


def test_cname_chain_leaving_the_answer_is_followed_by_a_new_query(named: NamedServer) -> None:
    resolver = resolver_for(named)
    assert evaluate_with(resolver, "198.51.100.1", "u@cname-out.eval.test").result == "pass"
    asked = [(q.name, q.rdtype) for q in resolver.queries]
    assert asked == [("cname-out.eval.test", "TXT"), ("spf.cname.eval.test", "TXT")]


def test_txt_answer_over_512_octets_comes_over_tcp(named: NamedServer) -> None:
    resolver = resolver_for(named)
    evaluation = evaluate_with(resolver, "203.0.113.40", "u@big.eval.test")
    assert evaluation.result == "pass"
    (query,) = resolver.queries
    assert (query.name, query.transport) == ("big.eval.test", "tcp")


def test_section_4_3_nxdomain_and_nodata_are_told_apart_and_both_give_none(named: NamedServer) -> None:
    resolver = resolver_for(named)
    nxdomain = asyncio.run(resolver.query("no-such-name.eval.test", "TXT"))
    nodata = asyncio.run(resolver.query("nodata.eval.test", "TXT"))
    assert (nxdomain.outcome, nodata.outcome) == (Outcome.NXDOMAIN, Outcome.NODATA)
    assert evaluate(named, "192.0.2.1", "u@no-such-name.eval.test").result == "none"
    assert evaluate(named, "192.0.2.1", "u@nodata.eval.test").result == "none"


# ------------------------------------------------------------------ query accounting


def test_each_question_is_asked_exactly_once(named: NamedServer) -> None:
    resolver = resolver_for(named)
    evaluation = evaluate_with(resolver, "203.0.113.9", "u@dup.eval.test")
    assert (evaluation.result, evaluation.lookups) == ("fail", 4)
    asked = Counter((q.name, q.rdtype) for q in resolver.queries)
    assert asked == {("dup.eval.test", "TXT"): 1, ("host.eval.test", "A"): 1, ("ip4.eval.test", "TXT"): 1}


def test_mx_queries_the_mx_then_each_host_once(named: NamedServer) -> None:
    resolver = resolver_for(named)
    assert evaluate_with(resolver, "192.0.2.99", "u@mx.eval.test").result == "fail"
    assert sorted((q.name, q.rdtype) for q in resolver.queries) == [
        ("mx.eval.test", "MX"),
        ("mx.eval.test", "TXT"),
        ("mx1.eval.test", "A"),
        ("mx2.eval.test", "A"),
    ]


# ------------------------------------------------------------------ unreachable servers


def test_stopped_server_gives_temperror_within_the_timeout(named_factory: NamedFactory) -> None:
    server = named_factory({"stopped.test": ZONE_HEAD.format(origin="stopped.test") + '@ IN TXT "v=spf1 +all"\n'})
    assert evaluate(server, "192.0.2.1", "u@stopped.test").result == "pass"
    address = server.nameserver
    server.stop()
    started = time.monotonic()
    evaluation = evaluate(address, "192.0.2.1", "u@stopped.test", timeout=0.5)
    assert evaluation.result == "temperror"
    # One try and one retry of 0.5 s each, and nothing more.
    assert time.monotonic() - started < 1.5


def test_unused_loopback_port_gives_temperror_quickly() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    evaluation = evaluate(f"127.0.0.1:{port}", "192.0.2.1", "u@eval.test", timeout=0.5)
    assert evaluation.result == "temperror"
    assert evaluation.problem is not None and f"127.0.0.1:{port}" in evaluation.problem
    assert time.monotonic() - started < 1.5
