"""The DMARC rules (DMARC1xx), declared as data beside the SPF rules of `spfbuild.rules.registry`,
which lists both; their checks are `spfbuild.rules.dmarc` and `spfbuild.companion_audit`."""

from __future__ import annotations

from spfbuild.diagnostics import Rule, Severity

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# ---------------------------------------------------------------------- DMARC records (DMARC1xx)
# `v=DMARC1` records at _dmarc.<domain> (RFC 7489 section 6.3); checked by `spfbuild.rules.dmarc`.

DMARC_VERSION = Rule(
    code="DMARC100", name="dmarc-version-not-first", severity=ERROR,
    summary="The record does not start with exactly `v=DMARC1`.",
    fix="Start the record with `v=DMARC1;` (upper case, the first tag).",
    explanation=(
        "RFC 7489 section 6.3 requires `v=DMARC1` as the first tag, matched exactly; receivers discard records that "
        "do not begin with it (section 6.6.3), so the domain has no DMARC policy."
    ),
)

DMARC_MISSING_POLICY = Rule(
    code="DMARC101", name="dmarc-missing-policy", severity=ERROR,
    summary="The record has no `p=` tag.",
    fix="Add `p=none` (monitor), `p=quarantine` or `p=reject` after `v=DMARC1;`.",
    explanation=(
        "`p` is required in a policy record (RFC 7489 section 6.3). Without a valid one receivers apply no DMARC "
        "policy, or act as if `p=none` when a valid `rua` is present (section 6.6.3)."
    ),
)

DMARC_INVALID_POLICY = Rule(
    code="DMARC102", name="dmarc-invalid-policy", severity=ERROR,
    summary="`p=` is not none, quarantine or reject.",
    fix="Use `p=none`, `p=quarantine` or `p=reject` (lower case).",
    explanation="An invalid `p` makes receivers treat the record as having none (RFC 7489 section 6.6.3).",
)

DMARC_INVALID_SUBDOMAIN_POLICY = Rule(
    code="DMARC103", name="dmarc-invalid-subdomain-policy", severity=ERROR,
    summary="`sp=` is not none, quarantine or reject.",
    fix="Use `sp=none`, `sp=quarantine` or `sp=reject`, or leave `sp` out to apply `p` to subdomains.",
    explanation="Receivers treat a record with an invalid `sp` like one with an invalid `p` (RFC 7489 section 6.6.3).",
)

DMARC_PCT_RANGE = Rule(
    code="DMARC104", name="dmarc-pct-out-of-range", severity=ERROR,
    summary="`pct=` is not a whole number from 0 to 100.",
    fix="Give `pct` as a whole number from 0 to 100, or leave it out (100).",
    explanation="`pct` is the percentage of failing mail the policy applies to (RFC 7489 section 6.3).",
)

DMARC_NON_MAILTO = Rule(
    code="DMARC105", name="dmarc-non-mailto-uri", severity=WARNING,
    summary="A report URI is not a `mailto:` URI.",
    fix="Send reports to a `mailto:` address, e.g. `rua=mailto:dmarc@example.com`.",
    explanation=(
        "`mailto` is the only scheme receivers must support for reports (RFC 7489 section 6.2); others are "
        "commonly ignored, so no reports arrive."
    ),
)

DMARC_INVALID_URI = Rule(
    code="DMARC106", name="dmarc-invalid-report-uri", severity=ERROR,
    summary="`rua=` or `ruf=` holds something that is not a report URI.",
    fix="List URIs separated by commas, e.g. `rua=mailto:a@example.com,mailto:b@example.net!10m`.",
    explanation=(
        "Each entry is a URI with an optional `!size` limit; commas and `!` inside it must be percent-encoded "
        "(RFC 7489 section 6.4). Receivers ignore entries they cannot parse."
    ),
)

DMARC_UNKNOWN_TAG = Rule(
    code="DMARC107", name="dmarc-unknown-tag", severity=WARNING,
    summary="A tag RFC 7489 does not define.",
    fix="Remove the tag or correct its spelling (v, p, sp, pct, rua, ruf, adkim, aspf, fo, rf, ri).",
    explanation="Receivers ignore unknown tags (RFC 7489 section 6.3), so a misspelt one silently does nothing.",
)

DMARC_DUPLICATE_TAG = Rule(
    code="DMARC108", name="dmarc-duplicate-tag", severity=ERROR,
    summary="A tag is given more than once.",
    fix="Keep one of each tag.",
    explanation="A tag list with a tag given twice is invalid (RFC 6376 section 3.2, which RFC 7489 section 6.4 uses).",
)

DMARC_INVALID_ALIGNMENT = Rule(
    code="DMARC109", name="dmarc-invalid-alignment", severity=ERROR,
    summary="`adkim=` or `aspf=` is not r or s.",
    fix="Use `r` (relaxed, the default) or `s` (strict).",
)

DMARC_INVALID_FAILURE_OPTIONS = Rule(
    code="DMARC110", name="dmarc-invalid-failure-options", severity=WARNING,
    summary="`fo=` is not a colon-separated list of 0, 1, d and s.",
    fix="Use `fo=0` (the default), `fo=1`, `fo=d`, `fo=s` or a combination such as `fo=1:d`.",
)

DMARC_INVALID_INTERVAL = Rule(
    code="DMARC111", name="dmarc-invalid-report-interval", severity=WARNING,
    summary="`ri=` is not a whole number of seconds.",
    fix="Give `ri` in seconds (86400, one day, is the default).",
)

DMARC_INVALID_FORMAT = Rule(
    code="DMARC112", name="dmarc-invalid-report-format", severity=WARNING,
    summary="`rf=` names a failure report format other than afrf.",
    fix="Use `rf=afrf` or leave it out.",
)

DMARC_TAG_SYNTAX = Rule(
    code="DMARC113", name="dmarc-tag-syntax", severity=ERROR,
    summary="A part of the record is not `tag=value`.",
    fix="Separate tags with `;` and write each as `name=value`.",
    explanation="RFC 7489 section 6.4 uses DKIM's tag-list syntax (RFC 6376 section 3.2); receivers reject the record.",
)

DMARC_NO_REPORTS = Rule(
    code="DMARC114", name="dmarc-no-reports", severity=INFO,
    summary="`p=none` without `rua=`: the policy asks nothing and no one hears how mail fares.",
    fix="Add `rua=mailto:...` to receive aggregate reports before moving to quarantine or reject.",
)
DMARC_MISSING = Rule(
    code="DMARC115", name="no-dmarc-record", severity=WARNING,
    summary="The domain publishes no DMARC record at `_dmarc.<domain>`.",
    fix="Publish `v=DMARC1; p=none; rua=mailto:...` at _dmarc.<domain> (spfbuild's `dmarc:` config key).",
    explanation=(
        "Without a DMARC record receivers apply no policy to mail that fails SPF and DKIM alignment, and send no "
        "reports (RFC 7489 section 6.6.3)."
    ),
)

DMARC_MULTIPLE = Rule(
    code="DMARC116", name="multiple-dmarc-records", severity=ERROR,
    summary="`_dmarc.<domain>` holds more than one `v=DMARC1` record.",
    fix="Keep one DMARC record.",
    explanation="With more than one record receivers apply no DMARC policy at all (RFC 7489 section 6.6.3).",
)

DMARC_UNAUTHORISED_DESTINATION = Rule(
    code="DMARC117", name="unauthorised-report-destination", severity=WARNING,
    summary="A report address outside the domain's organisation does not authorise the domain's reports.",
    fix="Have the destination publish `<domain>._report._dmarc.<destination>` TXT \"v=DMARC1\".",
    explanation=(
        "Receivers send reports to another organisation's domain only when it publishes the authorisation record "
        "(RFC 7489 section 7.1); without it the reports are dropped."
    ),
)

DKIM_SELECTOR_MISSING = Rule(
    code="DMARC118", name="dkim-selector-missing", severity=WARNING,
    summary="A provider the SPF record includes signs with a DKIM selector that does not resolve to a key.",
    fix="Publish the provider's DKIM records (spfbuild's `dkim:` on the sender) and enable signing there.",
    explanation=(
        "DMARC passes through DKIM only when the provider signs with the customer's domain and the selector's key "
        "is published; otherwise that provider's mail depends on SPF alignment alone."
    ),
)

DMARC_DNS_ERROR = Rule(
    code="DMARC119", name="dmarc-temperror", severity=WARNING,
    summary="The DMARC record could not be fetched for a DNS failure.",
    fix="Check the domain's name servers and try again.",
)
