"""The resolver SPF work asks: each question once per run, over the configured servers.

Queries go straight to the configured servers (which may be authoritative-only), or to the
system's resolvers from /etc/resolv.conf. Answers are cached per (lower-cased name, type) and
concurrent callers of one question share one query; a CNAME chain that leaves one answer is
followed with further questions; a server that fails is asked again, then the next one; every
exchange sent is recorded in `queries`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace

import dns.rdatatype

from spfbuild.dns.interpret import interpret
from spfbuild.dns.nameservers import parse_nameserver, system_nameservers
from spfbuild.dns.response import Labels
from spfbuild.dns.transport import exchange
from spfbuild.dns.values import Answer, Outcome, QueryRecord, Server, normalize
from spfbuild.dnsname import name_labels
from spfbuild.limits import DEFAULT_TIMEOUT

# Following CNAMEs across answers: more hops than any sane zone needs, few enough to stop loops fast.
MAX_CNAME_HOPS = 8

Key = tuple[str, str]  # (normalized name, upper-case type)


# Each server is asked up to twice within a question's time: one retry for a lost UDP datagram.
ATTEMPTS = 2


class Resolver:
    """Asks each question once: answers are cached per (lower-cased name, type), and concurrent
    callers of the same question share one query. `queries` records every exchange sent."""

    @classmethod
    def within(cls, nameservers: Sequence[str], timeout: float) -> Resolver:
        """The resolver for a per-question `timeout` in seconds (what `--timeout` and the API's
        `timeout=` mean), shared out over ATTEMPTS tries of each server."""
        return cls(nameservers, timeout=timeout / ATTEMPTS, retries=ATTEMPTS - 1)

    def __init__(self, nameservers: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT, retries: int = 1):
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.servers: tuple[Server, ...] = (
            tuple(parse_nameserver(ns) for ns in nameservers) if nameservers else system_nameservers()
        )
        self.timeout = timeout
        self.retries = retries
        self.queries: list[QueryRecord] = []
        self._answers: dict[Key, Answer] = {}
        self._pending: dict[Key, asyncio.Task[Answer]] = {}

    async def query(self, name: str, rdtype: str) -> Answer:
        key = (normalize(name), rdtype.upper())
        cached = self._answers.get(key)
        if cached is not None:
            return cached
        # Shielded: one caller giving up must not cancel the question for the others.
        return await asyncio.shield(self._pending.get(key) or self._start(key))

    def _start(self, key: Key) -> asyncio.Task[Answer]:
        task = self._pending[key] = asyncio.create_task(self._resolve_and_store(key))
        # Every waiter may have given up (a cancelled walk): the outcome is retrieved all the same.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    async def _resolve_and_store(self, key: Key) -> Answer:
        try:
            answer = await self._resolve(key, hops=0)
        finally:
            del self._pending[key]
        self._answers[key] = answer
        return answer

    async def _resolve(self, key: Key, hops: int) -> Answer:
        started = time.monotonic()
        name, rdtype = key
        qname = name_labels(name)
        if isinstance(qname, str):
            return Answer(name, rdtype, Outcome.ERROR, detail=qname)
        try:
            code = dns.rdatatype.from_text(rdtype)
        except dns.rdatatype.UnknownRdatatype:
            return Answer(name, rdtype, Outcome.ERROR, detail=f"unknown record type {rdtype}")
        if not self.servers:
            return Answer(name, rdtype, Outcome.ERROR, detail="no nameservers configured")
        answer: Answer | None = None
        follow: str | None = None
        for server in self.servers:
            answer, follow = await self._ask_server(server, qname, code, key)
            if not answer.is_temperror:
                break
        assert answer is not None
        if follow is not None and answer.ok:
            answer = await self._follow(name, rdtype, follow, hops)
        return replace(answer, seconds=time.monotonic() - started)

    async def _follow(self, name: str, rdtype: str, target: str, hops: int) -> Answer:
        """The CNAME chain left the answer: ask for the target ourselves. Cached answers are
        reused, but in-flight ones are not awaited, so two chains pointing at each other
        cannot wait on each other forever."""
        if hops >= MAX_CNAME_HOPS:
            return Answer(name, rdtype, Outcome.ERROR, detail="CNAME chain too long")
        key = (normalize(target), rdtype)
        answer = self._answers.get(key)
        if answer is None:
            answer = await self._resolve(key, hops + 1)
            self._answers.setdefault(key, answer)
        return replace(answer, name=name)

    async def _ask_server(self, server: Server, qname: Labels, code: int, key: Key) -> tuple[Answer, str | None]:
        """The answer of one server, asked up to `retries` more times while it gives none at all;
        and the CNAME target to ask next, if any."""
        name, rdtype = key
        answer = Answer(name, rdtype, Outcome.TIMEOUT, server=str(server))
        for _attempt in range(self.retries + 1):
            started = time.monotonic()
            done = await exchange(qname, code, server, self.timeout)
            seconds = time.monotonic() - started
            if done.response is None:
                assert done.failure is not None
                answer = Answer(name, rdtype, done.failure, server=str(server), detail=done.detail)
                self.queries.append(QueryRecord(name, rdtype, done.failure, str(server), seconds, done.transport))
                continue
            read = interpret(done.response, qname, code)
            self.queries.append(QueryRecord(name, rdtype, read.outcome, str(server), seconds, done.transport))
            return Answer(name, rdtype, read.outcome, read.records, str(server), detail=read.detail), read.follow
        return answer, None
