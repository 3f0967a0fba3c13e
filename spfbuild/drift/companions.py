"""The companion records of `spfbuild diff`: each DKIM and DMARC record the config declares,
against what its name publishes. Compared by meaning: a CNAME by its target, a DMARC record by
its tags with RFC 7489's defaults applied (section 6.3), a DKIM key record by its key type and
public key (RFC 6376 section 3.6.1); a difference in case or spacing is no difference."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from spfbuild.companions import Companion
from spfbuild.dmarc import is_dmarc_record
from spfbuild.dns import Answer, normalize
from spfbuild.drift.model import DIFFERS, IN_SYNC, MISSING, UNREACHABLE, CompanionDrift
from spfbuild.mechanisms import DNSResolver
from spfbuild.taglist import parse_tags

# RFC 7489 section 6.3: the value of each optional tag when it is absent (sp: the p= policy).
DMARC_DEFAULTS = {"pct": "100", "adkim": "r", "aspf": "r", "fo": "0", "rf": "afrf", "ri": "86400"}
DMARC_TAGS = ("p", "sp", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri")

_Drift = Callable[..., CompanionDrift]  # a CompanionDrift for the record at hand: (status, published, detail)


async def compare_companions(records: Sequence[Companion], resolver: DNSResolver) -> tuple[CompanionDrift, ...]:
    """Each declared record against its name's published records, the questions asked together."""
    answers = await asyncio.gather(*(resolver.query(r.name, r.type) for r in records))
    return tuple(compare_one(record, answer) for record, answer in zip(records, answers, strict=True))


def compare_one(record: Companion, answer: Answer) -> CompanionDrift:
    def drift(status: str, published: str | None = None, detail: str | None = None) -> CompanionDrift:
        return CompanionDrift(record.name, record.type, status, record.value, published, detail)

    if answer.is_temperror:
        return drift(UNREACHABLE, detail=answer.message)
    values = list(answer.strings) if answer.ok else []
    if record.type == "CNAME":
        if not values:
            return drift(MISSING, detail=f"{record.name} has no CNAME record")
        published = normalize(values[0])
        if published == normalize(record.value):
            return drift(IN_SYNC, published)
        return drift(DIFFERS, published, f"points to {published}, not {normalize(record.value)}")
    if is_dmarc_record(record.value):
        return _dmarc(record, [v for v in values if is_dmarc_record(v)], drift)
    return _dkim_key(record, values, drift)


def _dmarc(record: Companion, found: list[str], drift: _Drift) -> CompanionDrift:
    if not found:
        return drift(MISSING, detail=f"{record.name} publishes no DMARC record")
    if len(found) > 1:
        return drift(DIFFERS, " | ".join(found),
                     f"{record.name} holds {len(found)} DMARC records; receivers apply none")
    want, have = dmarc_meaning(record.value), dmarc_meaning(found[0])
    changed = [f"{tag}={have.get(tag, '(none)')} instead of {tag}={want.get(tag, '(none)')}"
               for tag in DMARC_TAGS if want.get(tag) != have.get(tag)]
    return drift(DIFFERS, found[0], "; ".join(changed)) if changed else drift(IN_SYNC, found[0])


def dmarc_meaning(text: str) -> dict[str, str]:
    """What a DMARC record asks, tag by tag, defaults filled in: policy words and modes in
    lower case, report URIs and failure options as sorted sets. Unknown tags mean nothing to
    receivers (section 6.3), so they are left out; the first of a repeated tag counts."""
    given: dict[str, str] = {}
    for part in parse_tags(text).tags:
        given.setdefault(part.name, part.value.strip())  # tag names are case-sensitive
    meaning = {**DMARC_DEFAULTS, **{k: v for k, v in given.items() if k in DMARC_TAGS}}
    meaning.setdefault("sp", meaning.get("p", ""))
    for tag in ("p", "sp", "adkim", "aspf", "rf"):
        meaning[tag] = meaning[tag].lower()
    for tag in ("rua", "ruf"):
        if tag in meaning:
            meaning[tag] = ",".join(sorted(_uri(u) for u in meaning[tag].split(",") if u.strip()))
    meaning["fo"] = ":".join(sorted({part.strip().lower() for part in meaning["fo"].split(":")}))
    for tag in ("pct", "ri"):
        meaning[tag] = meaning[tag].lstrip("0") or "0"
    return meaning


def _uri(uri: str) -> str:
    scheme, _, rest = uri.strip().partition(":")
    return f"{scheme.lower()}:{rest}"


def _dkim_key(record: Companion, found: list[str], drift: _Drift) -> CompanionDrift:
    if not found:
        return drift(MISSING, detail=f"{record.name} has no TXT record")
    want = dkim_key(record.value)
    for text in found:
        if dkim_key(text) == want:
            return drift(IN_SYNC, text)
    shown = " | ".join(found)
    return drift(DIFFERS, shown, "the published key is not the declared one")


def dkim_key(text: str) -> tuple[str, str]:
    """(key type, public key) of a DKIM key record: k= defaults to rsa, the key's white space
    means nothing (RFC 6376 section 3.6.1)."""
    tags = parse_tags(text)
    kind = tags.first("k")
    key = tags.first("p")
    return ((kind.value.lower() if kind else "rsa"), "".join(key.value.split()) if key else "")

