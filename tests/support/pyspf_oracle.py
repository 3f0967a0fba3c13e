"""pyspf as an independent oracle: RFC 7208 check_host() as another implementation computes it.

pyspf asks DNS through one module-level function, `spf.DNSLookup`; the oracle puts in its place one
that asks a given server (the test's BIND) with dnspython, so pyspf sees exactly what a receiver
asking that server would see. Answers are cached per (name, type) for the oracle's life: the
zones do not change while it is used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import dns.exception
import dns.rdatatype
import dns.resolver
import spf  # pyspf


class Oracle:
    def __init__(self, nameserver: str, timeout: float = 5.0) -> None:
        host, _, port = nameserver.rpartition(":")
        self._resolver = dns.resolver.Resolver(configure=False)
        self._resolver.nameservers = [host.strip("[]")]
        self._resolver.port = int(port)
        self._resolver.lifetime = timeout
        self._resolver.cache = None  # our own cache below, keyed as pyspf asks
        self._answers: dict[tuple[str, str], list[Any]] = {}

    def result(self, ip: str, domain: str, *, lifted: bool = False) -> str:
        """pyspf's result for a client `ip` and MAIL FROM postmaster@`domain`; `lifted` raises the
        lookup limits (the declared record is usually over them: that is why it is flattened)."""
        with self._installed(lifted):
            query = spf.query(i=ip, s=f"postmaster@{domain}", h=domain, querytime=0)
            result, _code, _explanation = query.check()
        return str(result)

    @contextlib.contextmanager
    def _installed(self, lifted: bool) -> Iterator[None]:
        saved = spf.DNSLookup, spf.MAX_LOOKUP, spf.MAX_VOID_LOOKUPS
        spf.DNSLookup = self._lookup
        if lifted:
            spf.MAX_LOOKUP, spf.MAX_VOID_LOOKUPS = 1000, 1000
        try:
            yield
        finally:
            spf.DNSLookup, spf.MAX_LOOKUP, spf.MAX_VOID_LOOKUPS = saved

    def _lookup(self, name: str, qtype: str, strict: bool = True, timeout: float = 30) -> list[Any]:
        """`spf.DNSLookup`'s contract: [((name, type), value), ...], CNAMEs included; NXDOMAIN and
        no-data are []; a failure raises pyspf's TempError."""
        key = (name.lower(), qtype)
        if key not in self._answers:
            self._answers[key] = self._ask(name, qtype)
        return self._answers[key]

    def _ask(self, name: str, qtype: str) -> list[Any]:
        try:
            answer = self._resolver.resolve(name, qtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise spf.TempError(f"DNS {exc}") from None
        out: list[Any] = []
        for rrset in answer.response.answer:
            owner = rrset.name.to_text(omit_final_dot=True)
            for rdata in rrset:
                if rrset.rdtype == dns.rdatatype.CNAME:
                    out.append(((owner, "CNAME"), rdata.target.to_text(omit_final_dot=True)))
                elif rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    out.append(((owner, qtype), rdata.address))
                elif rrset.rdtype == dns.rdatatype.MX:
                    out.append(((owner, qtype), (rdata.preference, rdata.exchange)))
                elif rrset.rdtype == dns.rdatatype.PTR:
                    out.append(((owner, qtype), rdata.target.to_text(True)))
                elif rrset.rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
                    out.append(((owner, qtype), rdata.strings))
        return out
