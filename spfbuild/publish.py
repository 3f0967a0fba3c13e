"""Publishing with RFC 2136 dynamic updates signed with TSIG, then verifying by query.

One UPDATE per zone, guarded by the zone's SOA as read before (a concurrent edit makes the
server refuse it), adds new content-addressed chained records (a macro-compiled zone, too big
for one message, is added before it in UPDATEs of its own, under a label nothing references
yet), swaps the main record's old
`v=spf1` TXT for the new one (deleting only that RDATA, never the other TXT records at the
name), and deletes chained records whose TTL has passed since they were last referenced.
All of it commits as one zone version: no version has zero or two `v=spf1` records at a name,
or a main record that names a chained record that does not exist.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from spfbuild.emit import TxtRecord
from spfbuild.failure import Kind
from spfbuild.publish_companions import CompanionPlan, Owned, add_to_update, plan_companions, verify_companions
from spfbuild.pushserver import (
    PublishError,
    PushTarget,
    TsigKey,
    describe_failure,
    keyring,
    read_soa,
    read_txt,
    txt_rdata,
)

if TYPE_CHECKING:
    from spfbuild.companions import Companion


@dataclass(frozen=True)
class Change:
    """What one domain's update does."""

    domain: str
    records: tuple[TxtRecord, ...]  # the intended main record first, then chained records
    old_spf: tuple[str, ...]  # v=spf1 values at the domain now, to delete
    present: frozenset[str]  # chained names that already hold the intended value
    delete: tuple[str, ...]  # retired chained names whose TTL has passed
    compiled: bool = False  # the chained records are a macro-compiled zone (thousands of names)
    note: str | None = None  # what was done differently from the config, in one line (the TTL kept)
    companions: CompanionPlan | None = None  # the DKIM and DMARC records' part of the update


# A macro-compiled zone is too big for one DNS message (64 KiB): its records go first, in UPDATEs
# of this many names, under a label nothing references yet; the main record switches to it in the
# last one. Its names are content-addressed, so a main record that already names the label proves
# the whole zone was committed before it: the names are not asked one by one.
BULK = 1000
VERIFY_SAMPLE = 64


def plan_change(target: PushTarget, records: Sequence[TxtRecord], delete: Sequence[str], timeout: float,
                *, compiled: bool = False) -> Change:
    main, chains = records[0], records[1:]
    if not all(target.contains(r.name) for r in records):
        outside = next(r.name for r in records if not target.contains(r.name))
        raise PublishError(f"{outside} is not inside the zone {target.zone}", Kind.DATA)
    live_main = read_txt(target, main.name, timeout)
    note = None
    # A TXT RRset has one TTL: the v=spf1 record takes the one the other records there (site
    # verifications) already have, rather than changing theirs.
    if live_main.others and live_main.ttl is not None and live_main.ttl != main.ttl:
        note = (f"{main.name}: published at TTL {live_main.ttl}, not the configured {main.ttl}: the other TXT "
                f"records there have TTL {live_main.ttl} and a TXT RRset has one TTL (theirs is kept)")
        main = replace(main, ttl=live_main.ttl)
    if compiled:
        present = frozenset(c.name for c in chains) if live_main.spf == (main.value,) else frozenset()
    else:
        present = frozenset(c.name for c in chains if read_txt(target, c.name, timeout).values == (c.value,))
    referenced = {c.name for c in chains}
    return Change(main.name, (main, *chains), live_main.spf, present,
                  tuple(n for n in delete if n not in referenced), compiled, note)


def is_noop(change: Change) -> bool:
    main = change.records[0]
    return change.old_spf == (main.value,) and not change.delete and all(
        c.name in change.present for c in change.records[1:]
    ) and (change.companions is None or change.companions.noop)



def send_update(target: PushTarget, key: TsigKey, changes: Sequence[Change], soa: Any, timeout: float) -> None:
    import dns.query
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdataset
    import dns.rdatatype
    import dns.update

    for chunk in _bulk(changes):
        bulk = dns.update.UpdateMessage(target.zone, keyring=keyring(key))
        bulk.present(soa.name, dns.rdataset.from_rdata_list(0, list(soa)))
        for record in chunk:
            bulk.delete(record.name + ".", "TXT")
            bulk.add(record.name + ".", record.ttl, txt_rdata(record.value))
        _send(target, bulk, timeout)
        soa = read_soa(target, timeout)
    update = dns.update.UpdateMessage(target.zone, keyring=keyring(key))
    # Refused if the zone changed since it was read; prerequisite records carry TTL 0 (RFC 2136 3.2.1).
    update.present(soa.name, dns.rdataset.from_rdata_list(0, list(soa)))
    for change in changes:
        for chain in change.records[1:]:
            if chain.name not in change.present and not change.compiled:
                update.delete(chain.name + ".", "TXT")
                update.add(chain.name + ".", chain.ttl, txt_rdata(chain.value))
        main = change.records[0]
        if change.old_spf != (main.value,):
            for old in change.old_spf:
                update.delete(main.name + ".", txt_rdata(old))
            update.add(main.name + ".", main.ttl, txt_rdata(main.value))
        for name in change.delete if not change.compiled else ():
            update.delete(name + ".", "TXT")
        if change.companions is not None:
            add_to_update(update, change.companions)
    _send(target, update, timeout)
    # Retired compiled names are referenced by nothing: deleted after the switch, in bulk.
    deletes = [name for change in changes if change.compiled for name in change.delete]
    for start in range(0, len(deletes), BULK):
        cleanup = dns.update.UpdateMessage(target.zone, keyring=keyring(key))
        for name in deletes[start : start + BULK]:
            cleanup.delete(name + ".", "TXT")
        _send(target, cleanup, timeout)


def _bulk(changes: Sequence[Change]) -> list[list[TxtRecord]]:
    """The compiled records to add before the main records switch, in UPDATE-sized chunks."""
    records = [r for c in changes if c.compiled for r in c.records[1:] if r.name not in c.present]
    return [records[i : i + BULK] for i in range(0, len(records), BULK)]


def _send(target: PushTarget, update: Any, timeout: float) -> None:
    import dns.query
    import dns.rcode

    try:
        response = dns.query.tcp(update, target.host, port=target.port, timeout=timeout)
    except Exception as exc:  # timeouts, connection refused, TSIG failures on the response
        raise PublishError(f"{target}: update failed: {_tsig_hint(exc)}") from None
    rcode = response.rcode()
    if rcode != dns.rcode.NOERROR:
        why = {
            dns.rcode.NOTAUTH: "NOTAUTH: the server rejected the TSIG key or is not authoritative",
            dns.rcode.REFUSED: "REFUSED: the key may not update this zone",
            dns.rcode.NXRRSET: "NXRRSET: the zone changed while spfbuild was planning; run again",
        }.get(rcode, dns.rcode.to_text(rcode))
        raise PublishError(f"{target}: update refused: {why}")


def _tsig_hint(exc: BaseException) -> str:
    name = type(exc).__name__
    if name in ("PeerBadKey", "PeerBadSignature", "PeerBadTime", "PeerBadTruncation", "BadSignature"):
        return f"TSIG {name}: the server does not accept this key (wrong name, algorithm or secret)"
    return describe_failure(exc)


def verify(target: PushTarget, changes: Sequence[Change], timeout: float) -> None:
    """Query the server: each name must hold exactly what was intended."""
    for change in changes:
        main, chains = change.records[0], change.records[1:]
        spf = read_txt(target, main.name, timeout).spf
        if spf != (main.value,):
            raise PublishError(f"{target}: after the update {main.name} holds {list(spf)}, not the intended record")
        # A compiled zone is verified by a sample spread over it (each UPDATE is atomic).
        step = max(1, len(chains) // VERIFY_SAMPLE) if change.compiled else 1
        for chain in chains[::step]:
            if read_txt(target, chain.name, timeout).values != (chain.value,):
                raise PublishError(f"{target}: after the update {chain.name} does not hold the intended record")
        for name in change.delete[:: max(1, len(change.delete) // VERIFY_SAMPLE) if change.compiled else 1]:
            if read_txt(target, name, timeout).values:
                raise PublishError(f"{target}: {name} still exists after its deletion")
        if change.companions is not None:
            verify_companions(target, change.companions, timeout)


def with_companions(change: Change, target: PushTarget, intended: Sequence[Companion], owned: Collection[Owned],
                    timeout: float) -> Change:
    """A domain's SPF change with its companions' part added (the same UPDATE carries both)."""
    return replace(change, companions=plan_companions(target, change.domain, intended, owned, timeout))


def drift_lines(domain: str, change: Change, spf_drift: bool) -> list[str]:
    """The report of a domain whose state was current but whose zone was not: what this run did."""
    plan = change.companions
    if spf_drift or (plan is not None and plan.added):
        head = "republished: the live records differed from the state"
    elif change.delete:
        head = "deleted expired chained records"
    else:
        head = "deleted the companion records the config dropped"
    return [f"{domain}: {head}", *(plan.lines() if plan is not None else [])]
