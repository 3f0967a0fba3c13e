"""spfbuild.dns.Resolver against a scripted DNS server on loopback (no BIND needed).

The fake server answers each query with whatever its handler builds, over UDP and TCP, or
not at all; so the tests can show truncation, failover, timeouts and CNAME handling exactly.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Awaitable, Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from support.loopback import Listening, listen

from spfbuild.dns import MX, Answer, Outcome, Resolver, Server, parse_nameserver

Handler = Callable[[dns.message.Message, str], dns.message.Message | None]


class FakeServer:
    """UDP and TCP on one loopback port; `handler(query, transport)` returns a response or None."""

    def __init__(self, handler: Handler):
        self.handler = handler
        self.received: list[tuple[str, str, str]] = []  # (name, type, transport)
        self.port = 0
        self._listening: Listening | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> FakeServer:
        self._listening = await listen(lambda data: self._respond(data, "udp"), self._serve_tcp)
        self.port = self._listening.port
        return self

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
        response = self._respond(await reader.readexactly(length), "tcp")
        if response is not None:
            writer.write(struct.pack("!H", len(response)) + response)
            await writer.drain()
        writer.close()

    def _respond(self, wire: bytes, transport: str) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        self.received.append((question.name.to_text(True), dns.rdatatype.to_text(question.rdtype), transport))
        response = self.handler(query, transport)
        return None if response is None else response.to_wire()

    async def close(self) -> None:
        if self._listening is not None:
            await self._listening.close()


def reply(query: dns.message.Message, *records: str, rcode: dns.rcode.Rcode = dns.rcode.NOERROR, soa: bool = False) -> dns.message.Message:
    """A response holding answer records given as zone-file lines ("name 300 IN TXT ...")."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    response.set_rcode(rcode)
    for line in records:
        name, ttl, klass, rdtype, rdata = line.split(" ", 4)
        response.answer.append(dns.rrset.from_text(name, int(ttl), klass, rdtype, rdata))
    if soa:
        response.authority.append(dns.rrset.from_text("example.com.", 300, "IN", "SOA", "ns. host. 1 2 3 4 5"))
    return response


def run(handlers: list[Handler], scenario: Callable[[Resolver, list[FakeServer]], Awaitable[None]],
        timeout: float = 1.0, retries: int = 1) -> None:
    async def main() -> None:
        servers = [await FakeServer(h).start() for h in handlers]
        try:
            resolver = Resolver([s.address for s in servers], timeout=timeout, retries=retries)
            await scenario(resolver, servers)
        finally:
            for server in servers:
                await server.close()

    asyncio.run(main())


# ---------------------------------------------------------------- nameserver strings


@pytest.mark.parametrize(
    ("text", "server"),
    [
        ("127.0.0.1", Server("127.0.0.1", 53)),
        ("127.0.0.1:5353", Server("127.0.0.1", 5353)),
        ("[::1]:5353", Server("::1", 5353)),
        ("[::1]", Server("::1", 53)),
        ("::1", Server("::1", 53)),
        ("localhost:5353", Server("127.0.0.1", 5353)),
    ],
)
def test_nameserver_forms(text: str, server: Server) -> None:
    assert parse_nameserver(text) == server


@pytest.mark.parametrize("text", ["127.0.0.1:0", "127.0.0.1:x", "127.0.0.1:70000", "[::1", "[::1]x", ":53", "no-such-host.invalid"])
def test_bad_nameservers_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="bad nameserver"):
        parse_nameserver(text)


def test_server_prints_as_host_port() -> None:
    assert (str(Server("::1", 5353)), str(Server("127.0.0.1"))) == ("[::1]:5353", "127.0.0.1:53")


# ---------------------------------------------------------------- answers as values


def test_answer_messages_name_the_outcome_server_name_and_type() -> None:
    servfail = Answer("_spf.example.com", "TXT", Outcome.SERVFAIL, server="127.0.0.1:5353")
    assert servfail.message == "SERVFAIL from 127.0.0.1:5353 for _spf.example.com TXT"
    assert servfail.is_temperror and not servfail.is_void
    timeout = Answer("example.com", "A", Outcome.TIMEOUT, server="127.0.0.1:53")
    assert timeout.message == "timeout: no answer from 127.0.0.1:53 for example.com A"
    nodata = Answer("example.com", "MX", Outcome.NODATA, server="127.0.0.1:53")
    assert nodata.is_void and not nodata.is_temperror


def test_txt_strings_are_joined_without_spaces_and_bytes_are_kept_exactly() -> None:
    def handler(query: dns.message.Message, _: str) -> dns.message.Message:
        return reply(query, r'example.com. 300 IN TXT "v=spf1 ip4:192.0.2.0/2" "4 -all"', r'example.com. 300 IN TXT "caf\233"')

    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        answer = await resolver.query("example.com", "TXT")
        assert answer.outcome is Outcome.OK
        assert sorted(answer.strings) == ["caf\udce9", "v=spf1 ip4:192.0.2.0/24 -all"]
        assert "caf\udce9".encode("utf-8", "surrogateescape") == b"caf\xe9"

    run([handler], scenario)


def test_addresses_mx_and_ptr_records() -> None:
    records = {
        "A": "h.example.com. 300 IN A 192.0.2.1",
        "AAAA": "h.example.com. 300 IN AAAA 2001:db8::1",
        "MX": "h.example.com. 300 IN MX 10 mail.example.net.",
        "PTR": "h.example.com. 300 IN PTR host.example.net.",
    }

    def handler(query: dns.message.Message, _: str) -> dns.message.Message:
        return reply(query, records[dns.rdatatype.to_text(query.question[0].rdtype)])

    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        assert (await resolver.query("h.example.com", "A")).records == ("192.0.2.1",)
        assert (await resolver.query("h.example.com", "AAAA")).records == ("2001:db8::1",)
        assert (await resolver.query("h.example.com", "MX")).exchanges == (MX(10, "mail.example.net"),)
        assert (await resolver.query("h.example.com", "PTR")).strings == ("host.example.net",)

    run([handler], scenario)


# ---------------------------------------------------------------- the same answer from either reader
# A plain UDP answer is read from the octets; one with an OPT record (EDNS) is parsed by dnspython.
# Either way the one interpreter gives the same answer.


def answered(edns: bool, *sections: list[dns.rrset.RRset], soa: bool = False) -> Handler:
    """A handler putting the rrsets of `sections[0]` (and `sections[1]`, appended separately, so
    that the same rrset may appear twice on the wire) in the answer section."""
    def handler(query: dns.message.Message, _: str) -> dns.message.Message:
        response = reply(query, soa=soa)
        for section in sections:
            response.answer.extend(section)
        if edns:
            response.use_edns(0)
        return response

    return handler


def rrset(owner: str, rdclass: str, rdtype: str, *rdatas: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(owner, 300, rdclass, rdtype, *rdatas)


def ask_once(handler: Handler, name: str, rdtype: str) -> Answer:
    answers: list[Answer] = []

    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        answers.append(await resolver.query(name, rdtype))

    run([handler], scenario)
    return answers[0]


@pytest.mark.parametrize("edns", [False, True], ids=["octets", "dnspython"])
def test_a_record_sent_twice_is_one_record(edns: bool) -> None:
    twice = [rrset("example.com.", "IN", "TXT", '"v=spf1 -all"')]
    answer = ask_once(answered(edns, twice, [rrset("EXAMPLE.com.", "IN", "TXT", '"v=spf1 -all"')]), "example.com", "TXT")
    assert (answer.outcome, answer.records) == (Outcome.OK, ("v=spf1 -all",))


@pytest.mark.parametrize("edns", [False, True], ids=["octets", "dnspython"])
def test_records_of_another_class_are_no_answer(edns: bool) -> None:
    chaos = [rrset("example.com.", "CH", "TXT", '"v=spf1 +all"')]
    assert ask_once(answered(edns, chaos, soa=True), "example.com", "TXT").outcome is Outcome.NODATA
    both = [rrset("example.com.", "CH", "TXT", '"v=spf1 +all"'), rrset("example.com.", "IN", "TXT", '"v=spf1 -all"')]
    assert ask_once(answered(edns, both), "example.com", "TXT").records == ("v=spf1 -all",)


@pytest.mark.parametrize("edns", [False, True], ids=["octets", "dnspython"])
def test_owner_names_match_without_case_and_values_keep_theirs(edns: bool) -> None:
    chain = [rrset("ALIAS.example.com.", "IN", "CNAME", "Host.Example.com."),
             rrset("host.EXAMPLE.com.", "IN", "MX", "10 Mail.Example.NET.", "0 .")]
    answer = ask_once(answered(edns, chain), "alias.example.com", "MX")
    assert sorted(answer.exchanges) == [MX(0, "."), MX(10, "Mail.Example.NET")]


@pytest.mark.parametrize("edns", [False, True], ids=["octets", "dnspython"])
def test_a_cname_loop_inside_one_answer_is_an_error(edns: bool) -> None:
    loop = [rrset("a.example.com.", "IN", "CNAME", "b.example.com."), rrset("b.example.com.", "IN", "CNAME", "a.example.com.")]
    answer = ask_once(answered(edns, loop), "a.example.com", "TXT")
    assert (answer.outcome, answer.detail) == (Outcome.ERROR, "CNAME loop")


@pytest.mark.parametrize("edns", [False, True], ids=["octets", "dnspython"])
def test_addresses_read_alike(edns: bool) -> None:
    v6 = [rrset("h.example.com.", "IN", "AAAA", "2001:db8::1", "::ffff:192.0.2.1", "2001:db8:0:1:1:1:1:1")]
    assert sorted(ask_once(answered(edns, v6), "h.example.com", "AAAA").strings) == [
        "2001:db8:0:1:1:1:1:1", "2001:db8::1", "::ffff:192.0.2.1"]


def test_other_types_are_answered_as_their_text() -> None:
    records = [rrset("example.com.", "IN", "NS", "ns1.example.com.")]
    assert ask_once(answered(False, records), "example.com", "NS").records == ("ns1.example.com.",)


# ---------------------------------------------------------------- NXDOMAIN, NODATA, errors


@pytest.mark.parametrize(
    ("rcode", "soa", "outcome"),
    [
        (dns.rcode.NXDOMAIN, True, Outcome.NXDOMAIN),
        (dns.rcode.NOERROR, True, Outcome.NODATA),
        (dns.rcode.SERVFAIL, False, Outcome.SERVFAIL),
        (dns.rcode.REFUSED, False, Outcome.REFUSED),
        (dns.rcode.FORMERR, False, Outcome.ERROR),
    ],
)
def test_response_codes(rcode: dns.rcode.Rcode, soa: bool, outcome: Outcome) -> None:
    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        assert (await resolver.query("example.com", "TXT")).outcome is outcome

    run([lambda q, _: reply(q, rcode=rcode, soa=soa)], scenario)


def test_a_referral_is_an_error_not_nodata() -> None:
    def handler(query: dns.message.Message, _: str) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.authority.append(dns.rrset.from_text("com.", 300, "IN", "NS", "a.gtld-servers.net."))
        return response

    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        answer = await resolver.query("example.com", "TXT")
        assert answer.outcome is Outcome.ERROR and answer.detail is not None and "referral" in answer.detail

    run([handler], scenario)


def test_names_and_types_dns_cannot_carry_are_errors_without_a_query() -> None:
    async def scenario(resolver: Resolver, servers: list[FakeServer]) -> None:
        for name in ("a..example.com", "x" * 64 + ".example.com", ""):
            assert (await resolver.query(name, "A")).outcome is Outcome.ERROR
        unknown = await resolver.query("example.com", "NOSUCHTYPE")
        assert (unknown.outcome, unknown.detail) == (Outcome.ERROR, "unknown record type NOSUCHTYPE")
        assert servers[0].received == [] and resolver.queries == []

    run([lambda q, _: reply(q)], scenario)


# ---------------------------------------------------------------- cache and in-flight sharing


def test_each_question_is_sent_once_however_often_and_concurrently_it_is_asked() -> None:
    async def scenario(resolver: Resolver, servers: list[FakeServer]) -> None:
        names = ["example.com", "EXAMPLE.com.", "Example.Com"] * 5
        answers = await asyncio.gather(*(resolver.query(n, "TXT") for n in names))
        await resolver.query("example.com", "txt")
        assert {a.outcome for a in answers} == {Outcome.OK}
        assert servers[0].received == [("example.com", "TXT", "udp")]
        assert [(q.name, q.rdtype, q.outcome) for q in resolver.queries] == [("example.com", "TXT", Outcome.OK)]

    run([lambda q, _: reply(q, 'example.com. 300 IN TXT "v=spf1 -all"')], scenario)


def test_one_caller_giving_up_does_not_cancel_the_question_for_the_others() -> None:
    def slow(query: dns.message.Message, _: str) -> dns.message.Message:
        return reply(query, 'example.com. 300 IN TXT "v=spf1 -all"')

    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        first = asyncio.ensure_future(resolver.query("example.com", "TXT"))
        second = asyncio.ensure_future(resolver.query("example.com", "TXT"))
        await asyncio.sleep(0)
        first.cancel()
        assert (await second).outcome is Outcome.OK

    run([slow], scenario)


# ---------------------------------------------------------------- transports and failures


def test_a_truncated_udp_answer_is_asked_again_over_tcp() -> None:
    def handler(query: dns.message.Message, transport: str) -> dns.message.Message:
        response = reply(query, 'example.com. 300 IN TXT "v=spf1 -all"')
        if transport == "udp":
            response.answer.clear()
            response.flags |= dns.flags.TC
        return response

    async def scenario(resolver: Resolver, servers: list[FakeServer]) -> None:
        assert (await resolver.query("example.com", "TXT")).strings == ("v=spf1 -all",)
        assert [t for _, _, t in servers[0].received] == ["udp", "tcp"]
        assert [q.transport for q in resolver.queries] == ["tcp"]

    run([handler], scenario)


def test_a_failed_tcp_attempt_after_truncation_is_accounted_as_tcp() -> None:
    def handler(query: dns.message.Message, transport: str) -> dns.message.Message | None:
        if transport == "tcp":
            return None  # the connection is closed without an answer
        response = reply(query)
        response.flags |= dns.flags.TC
        return response

    async def scenario(resolver: Resolver, servers: list[FakeServer]) -> None:
        answer = await resolver.query("example.com", "TXT")
        assert answer.outcome is Outcome.ERROR
        assert [t for _, _, t in servers[0].received] == ["udp", "tcp", "udp", "tcp"]
        assert [(q.transport, q.outcome) for q in resolver.queries] == [("tcp", Outcome.ERROR)] * 2

    run([handler], scenario)


def test_a_silent_server_times_out_after_timeout_times_attempts() -> None:
    async def scenario(resolver: Resolver, servers: list[FakeServer]) -> None:
        started = time.monotonic()
        answer = await resolver.query("example.com", "TXT")
        elapsed = time.monotonic() - started
        assert answer.outcome is Outcome.TIMEOUT
        assert answer.message == f"timeout: no answer from {servers[0].address} for example.com TXT"
        assert 0.6 <= elapsed < 1.5  # two attempts of 0.3 s, and nothing like a hang
        assert [q.outcome for q in resolver.queries] == [Outcome.TIMEOUT, Outcome.TIMEOUT]

    run([lambda q, _: None], scenario, timeout=0.3, retries=1)


def test_servfail_from_one_server_asks_the_next() -> None:
    async def scenario(resolver: Resolver, servers: list[FakeServer]) -> None:
        answer = await resolver.query("example.com", "TXT")
        assert (answer.outcome, answer.server) == (Outcome.OK, servers[1].address)
        assert [q.outcome for q in resolver.queries] == [Outcome.SERVFAIL, Outcome.OK]

    run(
        [lambda q, _: reply(q, rcode=dns.rcode.SERVFAIL), lambda q, _: reply(q, 'example.com. 300 IN TXT "v=spf1 -all"')],
        scenario,
    )


def test_an_authoritative_nxdomain_is_final_and_not_asked_elsewhere() -> None:
    async def scenario(resolver: Resolver, servers: list[FakeServer]) -> None:
        assert (await resolver.query("example.com", "TXT")).outcome is Outcome.NXDOMAIN
        assert servers[1].received == []

    run([lambda q, _: reply(q, rcode=dns.rcode.NXDOMAIN, soa=True), lambda q, _: reply(q)], scenario)


# ---------------------------------------------------------------- CNAME chains


def test_a_cname_chain_inside_the_answer_is_followed() -> None:
    def handler(query: dns.message.Message, _: str) -> dns.message.Message:
        return reply(
            query,
            "alias.example.com. 300 IN CNAME alias2.example.com.",
            "alias2.example.com. 300 IN CNAME host.example.com.",
            "host.example.com. 300 IN A 192.0.2.1",
        )

    async def scenario(resolver: Resolver, servers: list[FakeServer]) -> None:
        answer = await resolver.query("alias.example.com", "A")
        assert (answer.name, answer.records) == ("alias.example.com", ("192.0.2.1",))
        assert len(servers[0].received) == 1

    run([handler], scenario)


def test_a_cname_chain_leaving_the_answer_is_asked_for() -> None:
    def handler(query: dns.message.Message, _: str) -> dns.message.Message:
        if query.question[0].name == dns.name.from_text("alias.example.com"):
            return reply(query, "alias.example.com. 300 IN CNAME spf.example.net.")
        return reply(query, 'spf.example.net. 300 IN TXT "v=spf1 -all"')

    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        answer = await resolver.query("alias.example.com", "TXT")
        assert (answer.name, answer.strings) == ("alias.example.com", ("v=spf1 -all",))
        assert [q.name for q in resolver.queries] == ["alias.example.com", "spf.example.net"]
        await resolver.query("spf.example.net", "TXT")  # cached by the chain
        assert len(resolver.queries) == 2

    run([handler], scenario)


def test_a_cname_to_a_name_without_the_type_is_nodata() -> None:
    def handler(query: dns.message.Message, _: str) -> dns.message.Message:
        return reply(query, "alias.example.com. 300 IN CNAME host.example.com.", soa=True)

    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        assert (await resolver.query("alias.example.com", "TXT")).outcome is Outcome.NODATA

    run([handler], scenario)


def test_cname_loops_end_in_an_error() -> None:
    def handler(query: dns.message.Message, _: str) -> dns.message.Message:
        name = query.question[0].name.to_text()
        target = "b.example.com." if name == "a.example.com." else "a.example.com."
        return reply(query, f"{name} 300 IN CNAME {target}")

    async def scenario(resolver: Resolver, _: list[FakeServer]) -> None:
        a, b = await asyncio.gather(resolver.query("a.example.com", "A"), resolver.query("b.example.com", "A"))
        assert (a.outcome, b.outcome) == (Outcome.ERROR, Outcome.ERROR)

    run([handler], scenario)


def test_importing_the_evaluator_does_not_import_dnspython() -> None:
    import subprocess
    import sys

    code = "import sys, spfbuild.evaluation, spfbuild.cli.lint; print(any(m == 'dns' or m.startswith('dns.') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
