"""What one DNS response says about one question: the only interpreter of responses.

The servers asked may be authoritative-only, so a response is read as such a server gives it:
the answer may hold a CNAME chain, followed here as far as the answer goes; when the chain
leaves the server's data the target is handed back, for the resolver to ask. NXDOMAIN and
NODATA (an SOA in the authority section) are answers; a delegation instead of an answer (NS in
the authority section) means the server is not the one to ask, and is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.rcode
import dns.rdatatype

from spfbuild.dns.response import Labels, Response, labels_text, lower
from spfbuild.dns.values import Outcome, RData

REFERRAL = "referral: the server does not answer for this name (not recursive?)"


@dataclass(frozen=True)
class Interpreted:
    outcome: Outcome
    records: tuple[RData, ...] = ()
    follow: str | None = None  # the CNAME target to ask next: the chain left this server's data
    detail: str | None = None


def interpret(response: Response, qname: Labels, rdtype: int) -> Interpreted:
    """What `response` answers to the question (`qname`, `rdtype`)."""
    rcode = response.rcode
    if rcode == dns.rcode.SERVFAIL:
        return Interpreted(Outcome.SERVFAIL)
    if rcode == dns.rcode.REFUSED:
        return Interpreted(Outcome.REFUSED)
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return Interpreted(Outcome.ERROR, detail=f"{dns.rcode.to_text(dns.rcode.Rcode.make(rcode))} from server")
    asked = lower(qname)
    name, written = asked, qname  # the chain's last name, compared without case, and as the server wrote it
    seen = {asked}
    while True:
        records = response.records.get(name)
        if records:
            return Interpreted(Outcome.OK, records)
        target = response.aliases.get(name) if rdtype != dns.rdatatype.CNAME else None
        if target is None:
            break
        name, written = lower(target), target
        if name in seen:
            return Interpreted(Outcome.ERROR, detail="CNAME loop")
        seen.add(name)
    if rcode == dns.rcode.NXDOMAIN:
        return Interpreted(Outcome.NXDOMAIN)
    negative = dns.rdatatype.SOA in response.authority
    if name != asked and not negative:
        return Interpreted(Outcome.OK, follow=labels_text(written))
    if not negative and dns.rdatatype.NS in response.authority:
        return Interpreted(Outcome.ERROR, detail=REFERRAL)
    return Interpreted(Outcome.NODATA)
