"""The one interpreter of DNS responses, on responses as it reads them (`Response`), whichever
reader made them: what a response code, an answer, a CNAME chain and the authority section say
about one question."""

from __future__ import annotations

import dns.rcode
import dns.rdatatype
import pytest

from spfbuild.dns import MX, Outcome
from spfbuild.dns.interpret import REFERRAL, Interpreted, interpret
from spfbuild.dns.response import Labels, Response

TXT, A, MX_TYPE, CNAME = dns.rdatatype.TXT, dns.rdatatype.A, dns.rdatatype.MX, dns.rdatatype.CNAME
SOA, NS = dns.rdatatype.SOA, dns.rdatatype.NS


def name(text: str) -> Labels:
    return tuple(label.encode() for label in text.split("."))


def ask(response: Response, qname: str = "example.com", rdtype: int = TXT) -> Interpreted:
    return interpret(response, name(qname), rdtype)


def test_records_of_the_asked_type_at_the_name_are_the_answer() -> None:
    response = Response(dns.rcode.NOERROR, {name("example.com"): ("v=spf1 -all", "other")})
    assert ask(response) == Interpreted(Outcome.OK, ("v=spf1 -all", "other"))


def test_names_are_compared_without_case() -> None:
    response = Response(dns.rcode.NOERROR, {name("example.com"): (MX(10, "Mail.Example.com"),)})
    assert ask(response, "EXAMPLE.Com", MX_TYPE).records == (MX(10, "Mail.Example.com"),)


@pytest.mark.parametrize(
    ("rcode", "outcome", "detail"),
    [
        (dns.rcode.SERVFAIL, Outcome.SERVFAIL, None),
        (dns.rcode.REFUSED, Outcome.REFUSED, None),
        (dns.rcode.FORMERR, Outcome.ERROR, "FORMERR from server"),
        (dns.rcode.NOTIMP, Outcome.ERROR, "NOTIMP from server"),
        (dns.rcode.BADVERS, Outcome.ERROR, "BADVERS from server"),  # an extended (EDNS) code
    ],
)
def test_failing_response_codes_say_nothing_about_the_name(rcode: int, outcome: Outcome, detail: str | None) -> None:
    response = Response(rcode, {name("example.com"): ("v=spf1 -all",)})
    assert ask(response) == Interpreted(outcome, detail=detail)


def test_nxdomain_and_nodata_are_answers() -> None:
    assert ask(Response(dns.rcode.NXDOMAIN, authority=frozenset({SOA}))).outcome is Outcome.NXDOMAIN
    assert ask(Response(dns.rcode.NOERROR, authority=frozenset({SOA}))).outcome is Outcome.NODATA
    assert ask(Response(dns.rcode.NOERROR)).outcome is Outcome.NODATA  # no SOA: still no records


def test_a_delegation_instead_of_an_answer_is_a_referral_error() -> None:
    assert ask(Response(dns.rcode.NOERROR, authority=frozenset({NS}))) == Interpreted(Outcome.ERROR, detail=REFERRAL)
    # With the SOA beside it the server speaks for the name: NODATA.
    assert ask(Response(dns.rcode.NOERROR, authority=frozenset({NS, SOA}))).outcome is Outcome.NODATA


def test_a_cname_chain_inside_the_answer_is_followed_to_its_records() -> None:
    response = Response(
        dns.rcode.NOERROR,
        {name("host.example.net"): ("192.0.2.1",)},
        {name("alias.example.com"): name("Next.example.com"), name("next.example.com"): name("host.example.net")},
    )
    assert ask(response, "alias.example.com", A) == Interpreted(Outcome.OK, ("192.0.2.1",))


def test_a_chain_leaving_the_servers_data_hands_back_its_last_target_as_written() -> None:
    response = Response(dns.rcode.NOERROR, aliases={name("alias.example.com"): name("SPF.Example.NET")})
    assert ask(response, "alias.example.com") == Interpreted(Outcome.OK, follow="SPF.Example.NET")


def test_a_chain_ending_in_a_negative_answer_is_that_answer() -> None:
    aliases = {name("alias.example.com"): name("host.example.com")}
    assert ask(Response(dns.rcode.NOERROR, aliases=aliases, authority=frozenset({SOA})), "alias.example.com").outcome \
        is Outcome.NODATA
    assert ask(Response(dns.rcode.NXDOMAIN, aliases=aliases, authority=frozenset({SOA})), "alias.example.com").outcome \
        is Outcome.NXDOMAIN


def test_a_cname_loop_inside_the_answer_is_an_error() -> None:
    aliases = {name("a.example.com"): name("b.example.com"), name("b.example.com"): name("A.example.com")}
    assert ask(Response(dns.rcode.NOERROR, aliases=aliases), "a.example.com") == Interpreted(
        Outcome.ERROR, detail="CNAME loop")


def test_a_question_for_the_cname_itself_is_not_chased() -> None:
    response = Response(dns.rcode.NOERROR, {name("alias.example.com"): ("host.example.com.",)},
                        {name("alias.example.com"): name("host.example.com")})
    assert ask(response, "alias.example.com", CNAME).records == ("host.example.com.",)
    assert ask(Response(dns.rcode.NOERROR, aliases={name("x.example.com"): name("y.example.com")},
                        authority=frozenset({SOA})), "x.example.com", CNAME).outcome is Outcome.NODATA
