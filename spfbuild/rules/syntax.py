"""Syntax rules (SPF1xx): the record does not follow the RFC 7208 ABNF.

The parser in `spfbuild.record` raises these; every one is an error, because a receiver
evaluating the record returns permerror.
"""

from spfbuild.diagnostics import Severity, register

E = Severity.ERROR

MISSING_VERSION = register(
    "SPF100", "missing-version", E,
    "The record does not start with the version tag `v=spf1`.",
    "Start the record with `v=spf1` followed by a space.",
    "Receivers only consider TXT records that begin with exactly `v=spf1` followed by a space or the "
    "end of the record (RFC 7208 section 4.5); anything else is ignored, so the domain has no SPF policy.",
)
MISSPELLED_VERSION = register(
    "SPF101", "misspelled-version", E,
    "The version tag is misspelled.",
    "Write the version tag as `v=spf1`.",
    "A tag such as `v=spf`, `v=spf2`, `spf1` or `v=spf1` glued to the next term makes receivers ignore "
    "the record entirely.",
)
UNKNOWN_MECHANISM = register(
    "SPF102", "unknown-mechanism", E,
    "A term is not one of the eight mechanisms or a modifier.",
    "Use one of all, include, a, mx, ptr, ip4, ip6, exists, or a name=value modifier.",
    "Unknown mechanisms make the whole record a permerror (RFC 7208 section 5).",
)
INVALID_QUALIFIER = register(
    "SPF103", "invalid-qualifier", E,
    "A mechanism carries more than one qualifier or an invalid one.",
    "Use a single qualifier: + (pass), - (fail), ~ (softfail) or ? (neutral).",
)
MISSING_DOMAIN = register(
    "SPF104", "missing-domain", E,
    "A mechanism or modifier that needs a domain has none.",
    "Add the domain after the colon, e.g. `include:_spf.example.com`.",
)
INVALID_DOMAIN = register(
    "SPF105", "invalid-domain", E,
    "A domain-spec is not a valid domain or macro-string.",
    "Write a fully qualified domain name whose last label is not all digits.",
    "RFC 7208 section 7.1 requires a domain-spec to end in a top label of letters, digits and inner "
    "hyphens (not all digits), or in a macro.",
)
INVALID_MACRO = register(
    "SPF106", "invalid-macro", E,
    "A macro-string is malformed.",
    "Use %{letter}, %{letter<digits>r<delimiters>}, %%, %_ or %- as RFC 7208 section 7 defines.",
)
INVALID_IP4 = register(
    "SPF107", "invalid-ip4", E,
    "An ip4 mechanism has an invalid IPv4 address.",
    "Write four decimal numbers 0-255 without leading zeros, e.g. `ip4:192.0.2.10`.",
)
INVALID_IP6 = register(
    "SPF108", "invalid-ip6", E,
    "An ip6 mechanism has an invalid IPv6 address.",
    "Write an RFC 4291 IPv6 address, e.g. `ip6:2001:db8::/32`.",
)
INVALID_CIDR = register(
    "SPF109", "invalid-cidr", E,
    "A CIDR prefix length is out of range or malformed.",
    "Use /0-/32 for IPv4 and /0-/128 for IPv6, without leading zeros.",
)
DUPLICATE_MODIFIER = register(
    "SPF110", "duplicate-modifier", E,
    "`redirect` or `exp` appears more than once.",
    "Keep a single redirect= and a single exp=.",
)
INVALID_MODIFIER = register(
    "SPF111", "invalid-modifier", E,
    "A modifier has an invalid name or value.",
    "Modifier names start with a letter; values are macro-strings.",
)
TYPOGRAPHIC = register(
    "SPF112", "typographic-lookalike", E,
    "A typographic look-alike character (dash, quote or space) stands where ASCII is required.",
    "Retype the character in plain ASCII; the fix shows the corrected record.",
    "Word processors and chat tools turn `-all` into `–all` and spaces into non-breaking spaces. "
    "Receivers see an unknown mechanism and return permerror, so SPF fails for all mail.",
)
INVALID_CHARACTER = register(
    "SPF113", "invalid-character", E,
    "The record contains a character outside printable ASCII, or a separator other than a space.",
    "Separate terms with plain spaces and use printable ASCII only.",
)
UNEXPECTED_ARGUMENT = register(
    "SPF114", "unexpected-argument", E,
    "A mechanism has an argument it does not take (e.g. `all:x`, `include/24`) or lacks a required one.",
    "Remove the argument, or give the mechanism the form RFC 7208 section 5 defines.",
)
