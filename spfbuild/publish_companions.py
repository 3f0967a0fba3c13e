"""Publishing the DKIM and DMARC records beside a domain's SPF record with RFC 2136: what the
push server holds at each companion's name, and the change that makes it what the config says.

Only the records spfbuild manages are touched: at `_dmarc.<domain>` the `v=DMARC1` TXT (never
the other TXT records there), at a DKIM selector's name its `v=DKIM1` TXT key or its CNAME. A
companion the config no longer names is deleted only when spfbuild put it there. A CNAME must be
the only record at its name (RFC 1034 section 3.6.2, RFC 2181 section 10.1), and a server
silently ignores an update that breaks that rule (RFC 2136 section 3.4.2.2): a companion that
would clash with the records at its name is refused before anything is sent, naming the name
and what is there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from spfbuild.dkim import is_dkim_key
from spfbuild.dmarc import is_dmarc_record
from spfbuild.failure import Kind
from spfbuild.pushserver import PublishError, PushTarget, ask, txt_rdata
from spfbuild.txt import quote_all, split_strings

if TYPE_CHECKING:
    from spfbuild.companions import Companion

__all__ = ["CompanionPlan", "Edit", "LiveName", "Owned", "add_to_update",
           "plan_companions", "read_name", "verify_companions"]

# Records DNSSEC keeps beside a CNAME (RFC 4035 section 2.5): no clash.
_BESIDE_CNAME = frozenset({"RRSIG", "NSEC"})
_SHOWN = 60  # characters of a clashing TXT value the refusal quotes

Owned = tuple[str, str, str]  # (name, type, value) of a companion spfbuild added to the zone


@dataclass(frozen=True)
class LiveName:
    """What the push server holds at one name."""

    name: str
    types: frozenset[str]  # every record type there
    txt: tuple[str, ...]  # each TXT record's joined value
    cname: str | None = None  # the CNAME's target, absolute, without the trailing dot
    txt_ttl: int | None = None  # the TXT RRset's TTL


@dataclass(frozen=True)
class Edit:
    """One name's part of the UPDATE: the records to delete, then the one to add (if any)."""

    name: str
    delete_txt: tuple[str, ...] = ()
    delete_cname: bool = False
    add: Companion | None = None


@dataclass(frozen=True)
class CompanionPlan:
    domain: str
    intended: tuple[Companion, ...]
    edits: tuple[Edit, ...]  # the names that differ from the intended records, in order
    removed: tuple[Owned, ...] = ()  # spfbuild's records the config dropped, deleted here
    notes: tuple[str, ...] = ()  # what is published differently from the config, and why

    @property
    def noop(self) -> bool:
        return not self.edits

    @property
    def added(self) -> frozenset[tuple[str, str]]:
        """(name, type) of every companion this plan puts into the zone."""
        return frozenset((e.add.name, e.add.type) for e in self.edits if e.add is not None)

    def lines(self) -> list[str]:
        """The change report's lines for the companions."""
        out = []
        for edit in self.edits:
            if edit.add is not None:
                shown = f"{edit.add.value}." if edit.add.type == "CNAME" else edit.add.value
                out.append(f"  companion {edit.add.name} {edit.add.type}: {shown}")
            else:
                kinds = (["TXT"] if edit.delete_txt else []) + (["CNAME"] if edit.delete_cname else [])
                out.append(f"  deleted companion {edit.name} {' and '.join(kinds)}")
        return out


def _managed(name: str, domain: str, value: str) -> bool:
    """A TXT at `name` that spfbuild replaces with its own: the domain's DMARC record at
    `_dmarc.<domain>`, a DKIM key elsewhere."""
    return is_dmarc_record(value) if name == f"_dmarc.{domain}" else is_dkim_key(value)


def read_name(target: PushTarget, name: str, timeout: float) -> LiveName:
    """Every record at `name`, asked of the push server (type ANY over TCP, where an
    authoritative server answers with all of them)."""
    import dns.rcode
    import dns.rdatatype

    response = ask(target, name, "ANY", timeout)
    if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        raise PublishError(f"{target}: {dns.rcode.to_text(response.rcode())} for {name}")
    owner = name.lower().rstrip(".")
    types: set[str] = set()
    txt: list[str] = []
    cname = txt_ttl = None
    for rrset in response.answer:
        if str(rrset.name).lower().rstrip(".") != owner:
            continue  # a CNAME's target, followed by the server
        types.add(dns.rdatatype.to_text(rrset.rdtype))
        if rrset.rdtype == dns.rdatatype.TXT:
            txt += [b"".join(r.strings).decode("utf-8", "surrogateescape") for r in rrset]
            txt_ttl = rrset.ttl
        elif rrset.rdtype == dns.rdatatype.CNAME:
            cname = str(next(iter(rrset)).target).rstrip(".")
    return LiveName(owner, frozenset(types), tuple(txt), cname, txt_ttl)


def plan_companions(target: PushTarget, domain: str, intended: Sequence[Companion], owned: Collection[Owned],
                    timeout: float) -> CompanionPlan:
    """The change that publishes `intended` at the push server. `owned` holds the companions
    spfbuild added before (from the state file): those the config no longer names are deleted,
    and a TXT key spfbuild added may give way to a CNAME at the same selector. Raises
    PublishError (a data problem) for a companion outside the zone or one that would clash."""
    outside = next((c.name for c in intended if not target.contains(c.name)), None)
    if outside is not None:
        raise PublishError(f"{outside} is not inside the zone {target.zone}", Kind.DATA)
    wanted = {c.name: c for c in intended}  # one companion per name (companions_for refuses more)
    dropped = [o for o in owned if o[0] not in wanted and target.contains(o[0])]
    names = list(dict.fromkeys([*wanted, *(o[0] for o in dropped)]))
    edits = []
    for name in names:
        live = read_name(target, name, timeout)
        mine = [o for o in owned if o[0] == name]
        want = wanted.get(name)
        edit = _drop(live, mine) if want is None else _edit(domain, live, want, mine)
        if edit is not None:
            edits.append(_keep_ttl(live, edit))
    notes = tuple(f"{domain}: {_ttl_note(e, wanted[e.name])}" for e in edits
                  if e.add is not None and e.add.ttl != wanted[e.name].ttl)
    return CompanionPlan(domain, tuple(intended), tuple(edits), tuple(dropped), notes)


def _keep_ttl(live: LiveName, edit: Edit) -> Edit:
    """A TXT joining other TXT records takes their TTL: an RRset has one (RFC 2181 section 5.2),
    and a different one would change theirs too."""
    add = edit.add
    staying = [v for v in live.txt if v not in edit.delete_txt]
    if add is None or add.type != "TXT" or not staying or live.txt_ttl is None or live.txt_ttl == add.ttl:
        return edit
    return replace(edit, add=replace(add, ttl=live.txt_ttl))


def _ttl_note(edit: Edit, want: Companion) -> str:
    assert edit.add is not None
    return (f"{edit.name}: published with TTL {edit.add.ttl}, that of the other TXT records at the name (one "
            f"TTL per RRset), not {want.ttl}")


def _drop(live: LiveName, mine: Sequence[Owned]) -> Edit | None:
    """Delete what spfbuild added at a name the config no longer uses, if it is still there as
    spfbuild left it; anything else there stays."""
    txt = tuple(v for v in live.txt if any(o[1] == "TXT" and o[2] == v for o in mine))
    cname = live.cname is not None and any(o[1] == "CNAME" and _same(o[2], live.cname) for o in mine)
    return Edit(live.name, txt, cname) if txt or cname else None


def _edit(domain: str, live: LiveName, want: Companion, mine: Sequence[Owned]) -> Edit | None:
    name = live.name
    my_txt = [v for v in live.txt if any(o[1] == "TXT" and o[2] == v for o in mine)]
    my_cname = live.cname is not None and any(o[1] == "CNAME" for o in mine)
    if want.type == "CNAME":
        others = set(live.types) - {"CNAME"} - _BESIDE_CNAME
        if "TXT" in others and len(my_txt) == len(live.txt):  # spfbuild's own key gives way
            others.discard("TXT")
        if others:
            raise PublishError(f"{name}: refused: the CNAME to {want.value}. must be the only record at "
                               f"its name, and the zone holds {_describe(live, others)} there; nothing for {domain} "
                               "was published", Kind.DATA)
        if live.cname is not None and _same(live.cname, want.value) and not my_txt:
            return None
        return Edit(name, tuple(my_txt), live.cname is not None, want)
    if live.cname is not None and not my_cname:
        raise PublishError(f"{name}: refused: the zone holds a CNAME to {live.cname}. there, and no other "
                           f"record may join a CNAME; nothing for {domain} was published", Kind.DATA)
    ours = tuple(v for v in live.txt if _managed(name, domain, v) or v in my_txt)
    if ours == (want.value,) and not my_cname:
        return None
    return Edit(name, ours, my_cname, want)


def _same(a: str, b: str) -> bool:
    return a.lower().rstrip(".") == b.lower().rstrip(".")


def _describe(live: LiveName, types: set[str]) -> str:
    parts = []
    for rtype in sorted(types):
        if rtype == "TXT":
            parts += [f'TXT "{v[:_SHOWN]}{"..." if len(v) > _SHOWN else ""}"' for v in live.txt]
        else:
            parts.append(rtype)
    return ", ".join(parts)


def add_to_update(update: Any, plan: CompanionPlan) -> None:
    """The plan's records in a dnspython UpdateMessage: each name's deletions before its addition
    (a server applies an UPDATE's records in order, so a CNAME joins a name already emptied)."""
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    for edit in plan.edits:
        owner = edit.name + "."
        for value in edit.delete_txt:
            update.delete(owner, txt_rdata(value))
        if edit.delete_cname:
            update.delete(owner, "CNAME")
        if edit.add is not None:
            rdtype = dns.rdatatype.from_text(edit.add.type)
            text = quote_all(split_strings(edit.add.value)) if edit.add.type == "TXT" else f"{edit.add.value}."
            update.add(owner, edit.add.ttl, dns.rdata.from_text(dns.rdataclass.IN, rdtype, text))


def verify_companions(target: PushTarget, plan: CompanionPlan, timeout: float) -> None:
    """Query the server after the update: each edited name holds what was intended."""
    for edit in plan.edits:
        live = read_name(target, edit.name, timeout)
        want = edit.add
        if want is None:
            if any(v in live.txt for v in edit.delete_txt) or (edit.delete_cname and live.cname is not None):
                raise PublishError(f"{target}: {edit.name} still holds spfbuild's record after its deletion")
        elif want.type == "CNAME":
            if live.cname is None or not _same(live.cname, want.value) or live.txt:
                raise PublishError(f"{target}: after the update {edit.name} does not hold the CNAME to "
                                   f"{want.value}.")
        elif want.value not in live.txt or live.cname is not None:
            raise PublishError(f"{target}: after the update {edit.name} does not hold the intended TXT record")
