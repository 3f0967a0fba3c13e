"""The DMARC1xx rules: a `v=DMARC1` record read as RFC 7489 tags, each value asked of
:mod:`spfbuild.dmarc` (the one implementation of the tag grammar)."""

from __future__ import annotations

from dataclasses import dataclass

from spfbuild import dmarc as rfc7489
from spfbuild.diagnostics import Diagnostic, Rule, Severity, has_errors
from spfbuild.rules import dmarc_rules as r
from spfbuild.taglist import Tag, parse_tags

__all__ = ["DmarcLintResult", "check", "lint_dmarc"]

_VALUE_RULES: dict[str, tuple[Rule, object]] = {
    "p": (r.DMARC_INVALID_POLICY, rfc7489.policy_problem),
    "sp": (r.DMARC_INVALID_SUBDOMAIN_POLICY, rfc7489.policy_problem),
    "pct": (r.DMARC_PCT_RANGE, rfc7489.pct_problem),
    "adkim": (r.DMARC_INVALID_ALIGNMENT, rfc7489.alignment_problem),
    "aspf": (r.DMARC_INVALID_ALIGNMENT, rfc7489.alignment_problem),
    "fo": (r.DMARC_INVALID_FAILURE_OPTIONS, rfc7489.failure_options_problem),
    "rf": (r.DMARC_INVALID_FORMAT, rfc7489.report_format_problem),
    "ri": (r.DMARC_INVALID_INTERVAL, rfc7489.interval_problem),
}


@dataclass(frozen=True)
class DmarcLintResult:
    text: str
    diagnostics: tuple[Diagnostic, ...]
    lookups: int = 0  # a DMARC record costs no SPF lookups
    kind: str = "dmarc"

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def lint_dmarc(text: str) -> DmarcLintResult:
    """Lint DMARC record text, bare or as quoted TXT strings."""
    from spfbuild.rules import syntax

    text = text.strip("\r\n")
    _, strings = syntax.check_quoting(text)
    record = "".join(strings) if strings is not None else text.strip()
    found = sorted(check(record), key=lambda d: (d.severity.rank != Severity.ERROR.rank, d.column, d.code))
    return DmarcLintResult(record, tuple(found))


def check(record: str) -> list[Diagnostic]:
    tags = parse_tags(record)
    found = [r.DMARC_TAG_SYNTAX(f"'{bad.name}' is not tag=value", column=bad.column, length=bad.length)
             for bad in tags.malformed]
    first = tags.tags[0] if tags.tags else None
    if first is None or first.name != "v" or first.value != rfc7489.VERSION:
        where = first or Tag("", "", 1, len(record))
        found.append(r.DMARC_VERSION(f"the record must begin with v={rfc7489.VERSION}", column=where.column,
                                     length=where.length))
    found += [r.DMARC_DUPLICATE_TAG(f"'{tag.name}' is given more than once", column=tag.column, length=tag.length)
              for tag in tags.duplicates()]
    for tag in tags.tags:
        found += _value(tag)
    if tags.first("p") is None:
        found.append(r.DMARC_MISSING_POLICY("the record has no p= tag", column=0))
    policy, rua = tags.first("p"), tags.first("rua")
    if policy is not None and policy.value == "none" and rua is None:
        found.append(r.DMARC_NO_REPORTS("p=none without rua=: no aggregate reports", column=policy.column,
                                        length=policy.length))
    return found


def _value(tag: Tag) -> list[Diagnostic]:
    if tag.name == "v":
        return []
    if tag.name in ("rua", "ruf"):
        return _uris(tag)
    if tag.name not in rfc7489.KNOWN_TAGS:
        return [r.DMARC_UNKNOWN_TAG(f"'{tag.name}' is not a DMARC tag; receivers ignore it", column=tag.column,
                                    length=tag.length)]
    rule, check_value = _VALUE_RULES[tag.name]
    problem = check_value(tag.value)  # type: ignore[operator]
    return [rule(f"{tag.name}={tag.value}: {problem}", column=tag.column, length=tag.length)] if problem else []


def _uris(tag: Tag) -> list[Diagnostic]:
    found = []
    for uri in tag.value.split(","):
        problem = rfc7489.uri_problem(uri)
        if problem is not None:
            found.append(r.DMARC_INVALID_URI(f"{tag.name}: {problem}", column=tag.column, length=tag.length))
        elif rfc7489.uri_scheme(uri) != "mailto":
            found.append(r.DMARC_NON_MAILTO(f"{tag.name}: '{uri.strip()}' is not a mailto: URI", column=tag.column,
                                            length=tag.length))
    return found
