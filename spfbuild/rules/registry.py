"""Every rule spfbuild reports, declared once, as data.

In the manner of ruff's rule registry: each rule is a `Rule` value with a stable code, a kebab-case
name, a severity, a one-line summary, a fix hint and an explanation. The checks that produce a
rule's diagnostics live in its family's module (`syntax`, `policy`, `ranges`, `size`, `dns`, `dmarc`) and
refer to the declaration by its name. The SPF rules are declared here, the DMARC rules in
`dmarc_rules`; `spfbuild rules` lists and explains them by reading these two modules alone, which
import no record parsing, DNS or tree walking.

Adding a rule takes its declaration in one of them and its check in the family module: `RULES`
lists every declaration of both, so nothing registers itself on import.
"""

from __future__ import annotations

from spfbuild.diagnostics import Rule, Severity
from spfbuild.limits import (
    MAX_LOOKUPS,
    MAX_MX_NAMES,
    MAX_RECORD_BYTES,
    MAX_STRING_BYTES,
    MAX_VOID_LOOKUPS,
    UDP_PAYLOAD_BYTES,
)
from spfbuild.rules import dmarc_rules

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# ---------------------------------------------------------------------- syntax (SPF1xx)
# The record does not follow the RFC 7208 ABNF, so receivers return permerror: every one is an
# error. The parser (`spfbuild.recordparse`) raises them; `spfbuild.rules.syntax` checks the quoting.

MISSING_VERSION = Rule(
    code="SPF100", name="missing-version", severity=ERROR,
    summary="The record does not start with the version tag `v=spf1`.",
    fix="Start the record with `v=spf1` followed by a space.",
    explanation=(
        "Receivers only consider TXT records that begin with exactly `v=spf1` followed by a space or the end of the "
        "record (RFC 7208 section 4.5); anything else is ignored, so the domain has no SPF policy."
    ),
)

MISSPELLED_VERSION = Rule(
    code="SPF101", name="misspelled-version", severity=ERROR,
    summary="The version tag is misspelled.",
    fix="Write the version tag as `v=spf1`.",
    explanation=(
        "A tag such as `v=spf`, `v=spf2`, `spf1` or `v=spf1` glued to the next term makes receivers ignore the record "
        "entirely."
    ),
)

UNKNOWN_MECHANISM = Rule(
    code="SPF102", name="unknown-mechanism", severity=ERROR,
    summary="A term is not one of the eight mechanisms or a modifier.",
    fix="Use one of all, include, a, mx, ptr, ip4, ip6, exists, or a name=value modifier.",
    explanation="Unknown mechanisms make the whole record a permerror (RFC 7208 section 5).",
)

INVALID_QUALIFIER = Rule(
    code="SPF103", name="invalid-qualifier", severity=ERROR,
    summary="A mechanism carries more than one qualifier or an invalid one.",
    fix="Use a single qualifier: + (pass), - (fail), ~ (softfail) or ? (neutral).",
)

MISSING_DOMAIN = Rule(
    code="SPF104", name="missing-domain", severity=ERROR,
    summary="A mechanism or modifier that needs a domain has none.",
    fix="Add the domain after the colon, e.g. `include:_spf.example.com`.",
)

INVALID_DOMAIN = Rule(
    code="SPF105", name="invalid-domain", severity=ERROR,
    summary="A domain-spec is not a valid domain or macro-string.",
    fix="Write a fully qualified domain name whose last label is not all digits.",
    explanation=(
        "RFC 7208 section 7.1 requires a domain-spec to end in a top label of letters, digits and inner hyphens (not "
        "all digits), or in a macro."
    ),
)

INVALID_MACRO = Rule(
    code="SPF106", name="invalid-macro", severity=ERROR,
    summary="A macro-string is malformed.",
    fix="Use %{letter}, %{letter<digits>r<delimiters>}, %%, %_ or %- as RFC 7208 section 7 defines.",
)

INVALID_IP4 = Rule(
    code="SPF107", name="invalid-ip4", severity=ERROR,
    summary="An ip4 mechanism has an invalid IPv4 address.",
    fix="Write four decimal numbers 0-255 without leading zeros, e.g. `ip4:192.0.2.10`.",
)

INVALID_IP6 = Rule(
    code="SPF108", name="invalid-ip6", severity=ERROR,
    summary="An ip6 mechanism has an invalid IPv6 address.",
    fix="Write an RFC 4291 IPv6 address, e.g. `ip6:2001:db8::/32`.",
)

INVALID_CIDR = Rule(
    code="SPF109", name="invalid-cidr", severity=ERROR,
    summary="A CIDR prefix length is out of range or malformed.",
    fix="Use /0-/32 for IPv4 and /0-/128 for IPv6, without leading zeros.",
)

DUPLICATE_MODIFIER = Rule(
    code="SPF110", name="duplicate-modifier", severity=ERROR,
    summary="`redirect` or `exp` appears more than once.",
    fix="Keep a single redirect= and a single exp=.",
)

INVALID_MODIFIER = Rule(
    code="SPF111", name="invalid-modifier", severity=ERROR,
    summary="A modifier has an invalid name or value.",
    fix="Modifier names start with a letter; values are macro-strings.",
)

TYPOGRAPHIC = Rule(
    code="SPF112", name="typographic-lookalike", severity=ERROR,
    summary="A typographic look-alike character (dash, quote or space) stands where ASCII is required.",
    fix="Retype the character in plain ASCII; the fix shows the corrected record.",
    explanation=(
        "Word processors and chat tools turn `-all` into `–all` and spaces into non-breaking spaces. Receivers see an "
        "unknown mechanism and return permerror, so SPF fails for all mail."
    ),
)

INVALID_CHARACTER = Rule(
    code="SPF113", name="invalid-character", severity=ERROR,
    summary="The record contains a character outside printable ASCII, or a separator other than a space.",
    fix="Separate terms with plain spaces and use printable ASCII only.",
)

UNEXPECTED_ARGUMENT = Rule(
    code="SPF114", name="unexpected-argument", severity=ERROR,
    summary="A mechanism has an argument it does not take (e.g. `all:x`, `include/24`) or lacks a required one.",
    fix="Remove the argument, or give the mechanism the form RFC 7208 section 5 defines.",
)

# ---------------------------------------------------------------------- policy (SPF2xx)
# The record parses but says something its author rarely means (`spfbuild.rules.policy`).

PASS_ALL = Rule(
    code="SPF200", name="pass-all", severity=ERROR,
    summary="`+all` (or a bare `all`) lets every host on the internet pass as the domain.",
    fix="End the record with `-all` or `~all`.",
)

NEUTRAL_ALL = Rule(
    code="SPF201", name="neutral-all", severity=WARNING,
    summary="`?all` makes every unlisted host neutral, which protects nothing.",
    fix="Use `~all` while testing and `-all` once every sender is listed.",
)

NO_ALL = Rule(
    code="SPF202", name="no-all", severity=WARNING,
    summary="The record has neither `all` nor `redirect=`, so unlisted hosts get neutral.",
    fix="End the record with `-all` or `~all`.",
    explanation=(
        "Without an `all` mechanism or a redirect, check_host() returns neutral for every host that no mechanism "
        "matched (RFC 7208 section 4.7)."
    ),
)

TERMS_AFTER_ALL = Rule(
    code="SPF203", name="terms-after-all", severity=WARNING,
    summary="Mechanisms after `all` are never evaluated.",
    fix="Move them before `all`, or remove them.",
)

REDIRECT_WITH_ALL = Rule(
    code="SPF204", name="redirect-with-all", severity=WARNING,
    summary="`redirect=` is ignored because the record has an `all` mechanism.",
    fix="Remove either the redirect or the `all` mechanism.",
    explanation="RFC 7208 section 6.1: redirect applies only when no mechanism matched, and `all` always matches.",
)

PTR_USED = Rule(
    code="SPF205", name="ptr-mechanism", severity=WARNING,
    summary="`ptr` is deprecated: slow, unreliable and a burden on the reverse DNS of others.",
    fix="Replace `ptr` with ip4/ip6 ranges or `a` of the sending hosts.",
    explanation="RFC 7208 section 5.5 says the ptr mechanism SHOULD NOT be used.",
)

DUPLICATE_TERM = Rule(
    code="SPF206", name="duplicate-term", severity=WARNING,
    summary="The same term appears more than once.",
    fix="Remove the repeated term.",
)

EXP_WITHOUT_FAIL = Rule(
    code="SPF207", name="exp-without-fail", severity=WARNING,
    summary="`exp=` is set, but nothing in the record can produce fail, so the explanation is never shown.",
    fix="Remove `exp=`, or use `-all` / a `-` qualified mechanism.",
)

UNKNOWN_MODIFIER = Rule(
    code="SPF208", name="unknown-modifier", severity=INFO,
    summary="An unknown modifier is ignored by receivers.",
    fix="Check the spelling (`redirect=`, `exp=`) or remove it.",
)

# ---------------------------------------------------------------------- ranges (SPF3xx)
# ip4/ip6 networks that are shadowed, redundant, too broad or not publicly routable
# (`spfbuild.rules.ranges`).

REDUNDANT_RANGE = Rule(
    code="SPF300", name="redundant-range", severity=WARNING,
    summary="An ip4/ip6 range is already covered by another term.",
    fix="Remove the covered range.",
    explanation=(
        "A range inside an earlier ip4/ip6 term is never reached (first match wins); a range inside a later term with "
        "the same qualifier, with nothing that could match in between, adds nothing."
    ),
)

# Networks shorter than these hold far more hosts than any one sender has: spfbuild's judgement.
BROAD_IP4_PREFIX = 16
BROAD_IP6_PREFIX = 32

BROAD_RANGE = Rule(
    code="SPF301", name="broad-range", severity=WARNING,
    summary=(
        f"An ip4 range shorter than /{BROAD_IP4_PREFIX} or an ip6 range shorter than /{BROAD_IP6_PREFIX} authorises "
        "a huge number of hosts."
    ),
    fix="List the provider's actual ranges, or include the provider's SPF record.",
)

NON_PUBLIC_RANGE = Rule(
    code="SPF302", name="non-public-range", severity=WARNING,
    summary="A private, loopback, link-local or documentation range cannot send mail on the internet.",
    fix="Remove it, or replace it with the public address of the sending host.",
)

HOST_BITS = Rule(
    code="SPF303", name="host-bits-set", severity=INFO,
    summary="An ip4/ip6 network has host bits set after its prefix; receivers ignore them.",
    fix="Write the network address, e.g. `ip4:192.0.2.0/24`.",
)

# ---------------------------------------------------------------------- size (SPF4xx)
# The lookup limit and TXT size limits, judged on the record alone (`spfbuild.rules.size`).

TOO_MANY_LOOKUPS = Rule(
    code="SPF400", name="too-many-lookups", severity=ERROR,
    summary=(
        f"The record itself has more than {MAX_LOOKUPS} DNS-querying terms (include, a, mx, ptr, exists, redirect)."
    ),
    fix="Flatten providers into ip4/ip6 ranges with `spfbuild flatten`, or drop unused senders.",
    explanation=(
        f"RFC 7208 section 4.6.4: check_host() returns permerror once more than {MAX_LOOKUPS} DNS-querying terms are "
        "evaluated, counting those in included records too; `spfbuild check` counts the whole tree."
    ),
)

STRING_TOO_LONG = Rule(
    code="SPF401", name="string-too-long", severity=WARNING,
    summary=(
        f"The record is longer than {MAX_STRING_BYTES} bytes and must be published as several character-strings."
    ),
    fix=f'Publish it as several quoted strings of at most {MAX_STRING_BYTES} bytes each: "v=spf1 ... " "...".',
    explanation=(
        f"A TXT character-string holds at most {MAX_STRING_BYTES} bytes. DNS consoles and zone files need the record "
        "split; receivers join the strings without adding spaces. A single quoted string over "
        f"{MAX_STRING_BYTES} bytes is an error."
    ),
)

RECORD_TOO_LARGE = Rule(
    code="SPF402", name="record-too-large", severity=WARNING,
    summary=(
        f"The record is larger than {MAX_RECORD_BYTES} bytes, RFC 7208's guidance for fitting a "
        f"{UDP_PAYLOAD_BYTES}-byte UDP answer."
    ),
    fix="Shorten it: use includes, collapse ranges, or move terms into chained records with `spfbuild flatten`.",
)

ESTIMATED_TOO_MANY_LOOKUPS = Rule(
    code="SPF403", name="estimated-too-many-lookups", severity=ERROR,
    summary=(
        f"Counting the provider catalogue's figures for its includes, the record needs more than {MAX_LOOKUPS} DNS "
        "lookups."
    ),
    fix="Flatten providers into ip4/ip6 ranges with `spfbuild flatten`, or drop unused senders.",
    explanation=(
        "Offline, lint knows what the includes of catalogue providers cost receivers (their own nested includes "
        "count too, RFC 7208 section 4.6.4), and counts any other include or redirect as 1. The figure is an "
        "estimate: `spfbuild check` measures it in DNS."
    ),
)

# ---------------------------------------------------------------------- DNS (SPF5xx)
# Judged on the published record and its whole include tree (`spfbuild.rules.dns`).

INVALID_DOMAIN_NAME = Rule(
    code="SPF500", name="invalid-domain-name", severity=ERROR,
    summary="The name given to check is not a valid domain name.",
    fix="Give a domain name such as example.com (no scheme, path, spaces or @).",
)

NO_SPF_RECORD = Rule(
    code="SPF501", name="no-spf-record", severity=ERROR,
    summary="The domain publishes no SPF record, so receivers get the result none.",
    fix=(
        'Publish one TXT record starting with "v=spf1", e.g. "v=spf1 mx -all", or "v=spf1 -all" for a domain that '
        'sends no mail.'
    ),
)

MULTIPLE_RECORDS = Rule(
    code="SPF502", name="multiple-spf-records", severity=ERROR,
    summary="More than one TXT record starts with v=spf1: receivers return permerror.",
    fix="Merge them into a single record.",
    explanation=(
        "RFC 7208 section 4.5: a domain must publish at most one SPF record; with two or more, check_host() returns "
        "permerror, also when the domain is reached through an include."
    ),
)

INCLUDED_SYNTAX_ERROR = Rule(
    code="SPF503", name="included-syntax-error", severity=ERROR,
    summary="A record reached through include or redirect has a syntax error: receivers return permerror.",
    fix="Fix the included record, or ask its owner to; `spfbuild lint` shows the exact column.",
)

MISSING_TARGET = Rule(
    code="SPF504", name="target-without-spf", severity=ERROR,
    summary="An include or redirect names a domain without an SPF record: receivers return permerror.",
    fix="Correct the name (often a provider's old or misspelt include), or remove the term.",
    explanation="RFC 7208 sections 5.2 and 6.1: an include or redirect whose target has no SPF record is a permerror.",
)

INCLUDE_LOOP = Rule(
    code="SPF505", name="include-loop", severity=ERROR,
    summary="Includes or redirects lead back to a record already on the path.",
    fix="Remove the include or redirect that closes the loop.",
    explanation=(
        f"A loop makes check_host() run until the {MAX_LOOKUPS}-lookup limit stops it with permerror (RFC 7208 4.6.4)."
    ),
)

TOO_MANY_DNS_LOOKUPS = Rule(
    code="SPF506", name="too-many-dns-lookups", severity=ERROR,
    summary=f"The whole include tree costs more than {MAX_LOOKUPS} DNS lookups: receivers may return permerror.",
    fix="Drop unused senders, or flatten providers into ip4/ip6 ranges with `spfbuild flatten`.",
    explanation=(
        "RFC 7208 section 4.6.4 counts include, a, mx, ptr, exists and redirect in every record evaluated. The count "
        "is that of a sender matching nothing, which every forged mail is."
    ),
)

TOO_MANY_VOID_LOOKUPS = Rule(
    code="SPF507", name="too-many-void-lookups", severity=ERROR,
    summary=(
        f"More than {MAX_VOID_LOOKUPS} DNS-querying terms get an empty answer (NXDOMAIN or no records): receivers "
        "return permerror."
    ),
    fix="Remove the terms that name hosts or domains that no longer exist.",
    explanation=(
        "RFC 7208 section 4.6.4 recommends receivers stop with permerror after two void lookups. `a` asks A for IPv4 "
        "clients and AAAA for IPv6 ones; the worse family is reported."
    ),
)

TOO_MANY_MX_NAMES = Rule(
    code="SPF508", name="too-many-mx-names", severity=ERROR,
    summary=f"An mx term's domain has more than {MAX_MX_NAMES} MX names: receivers return permerror.",
    fix="List the mail servers with ip4/ip6 or a: terms instead of mx.",
    explanation=f"RFC 7208 section 4.6.4: the mx mechanism must not look up more than {MAX_MX_NAMES} MX names.",
)

# Addresses behind one a/mx term past which it looks like shared hosting or a CDN: spfbuild's judgement.
ADDRESS_LIMIT = 10

MANY_ADDRESSES = Rule(
    code="SPF509", name="many-addresses", severity=WARNING,
    summary=f"An a or mx term resolves to more than {ADDRESS_LIMIT} addresses.",
    fix="Check that every address really sends mail for the domain; list the senders with ip4/ip6.",
    explanation=(
        "Names with many addresses are usually shared hosting, load balancers or CDNs: every customer behind them can "
        "send as the domain, and the answers change without notice."
    ),
)

DNS_TEMPERROR = Rule(
    code="SPF510", name="dns-temperror", severity=ERROR,
    summary="A DNS question failed (timeout, SERVFAIL, REFUSED): receivers would return temperror.",
    fix="Check the name servers of the zone named; run the check again to rule out a passing fault.",
)

INCLUDED_PASS_ALL = Rule(
    code="SPF511", name="included-pass-all", severity=ERROR,
    summary="A record reached through include or redirect ends with +all, so it matches every host.",
    fix="Remove that include or redirect, or have its owner end the record with ~all or -all.",
    explanation=(
        "An included +all makes the include match every address: with `include:` (qualifier +) the whole internet "
        "passes as the domain, and with any other qualifier every term after it is dead. Either way the policy no "
        "longer says who may send, hence an error like `pass-all` (SPF200)."
    ),
)

DUPLICATE_PROVIDER = Rule(
    code="SPF512", name="duplicate-provider", severity=WARNING,
    summary="The same provider is included more than once, directly or through other includes.",
    fix="Keep one include per provider: the one covering every region you use.",
    explanation=(
        "Each extra reference costs DNS lookups for addresses already authorised (e.g. Mimecast's global _netblocks "
        "record already includes the regional ones)."
    ),
)

MX_OF_INCLUDED_PROVIDER = Rule(
    code="SPF513", name="mx-of-included-provider", severity=WARNING,
    summary="An mx term names MX hosts that belong to a provider that is also included.",
    fix="Remove the mx term: the provider's include already authorises its servers.",
    explanation=(
        "Security gateways such as Mimecast receive a domain's mail (its MX) and send its outbound mail from the "
        "ranges of their include; Mimecast advises removing mx, which costs lookups for nothing."
    ),
)

LARGE_RESPONSE = Rule(
    code="SPF514", name="large-dns-response", severity=WARNING,
    summary=(
        f"A record in the include tree is over {MAX_RECORD_BYTES} bytes, or its TXT answer is over "
        f"{UDP_PAYLOAD_BYTES} bytes and needs TCP."
    ),
    fix="Ask the record's owner to shorten it; prefer a provider's smaller regional include if it has one.",
    explanation=(
        f"Answers over {UDP_PAYLOAD_BYTES} bytes do not fit plain UDP: receivers must retry over TCP or use EDNS, "
        "and some fail with temperror instead."
    ),
)

TXT_ANSWER_TOO_LARGE = Rule(
    code="SPF515", name="txt-answer-too-large", severity=WARNING,
    summary=f"All TXT records at the domain together make an answer over {UDP_PAYLOAD_BYTES} bytes.",
    fix="Remove stale TXT records (old site-verification strings) or move them to their own names.",
    explanation=(
        "Receivers ask for every TXT record at the name to find the SPF one. "
        f"Over {UDP_PAYLOAD_BYTES} bytes the answer needs TCP or EDNS; resolvers that cannot do either return "
        "temperror."
    ),
)

SPF_TYPE_RECORD = Rule(
    code="SPF516", name="spf-type-record", severity=WARNING,
    summary="The domain publishes an obsolete SPF (type 99) record.",
    fix="Delete the SPF-type record; keep the TXT record only.",
    explanation=(
        "RFC 7208 section 3.1 removed the SPF record type; receivers ignore it, and a stale copy that differs from "
        "the TXT record only misleads the people reading the zone."
    ),
)

PUBLISHED_SIZE = Rule(
    code="SPF517", name="published-record-size", severity=INFO,
    summary=f"The published record is longer than {MAX_STRING_BYTES} bytes: its size, its strings and its answer.",
    fix="Nothing to fix: DNS already holds it as strings of at most 255 bytes.",
    explanation=(
        f"DNS carries a long record as several character-strings of at most {MAX_STRING_BYTES} bytes, which receivers "
        "join; what matters for a published record is the size of the whole TXT answer (SPF514, SPF515)."
    ),
)


# ---------------------------------------------------------------------- the registry

# Every rule declared above, in code order.
RULES: tuple[Rule, ...] = tuple(sorted(
    (value for value in [*globals().values(), *vars(dmarc_rules).values()] if isinstance(value, Rule)),
    key=lambda rule: rule.code,
))
_BY_KEY: dict[str, Rule] = {key: rule for rule in RULES for key in (rule.code.lower(), rule.name)}


def find_rule(code_or_name: str) -> Rule | None:
    """The rule with this code (any case) or name, if there is one."""
    return _BY_KEY.get(code_or_name.strip().lower())
