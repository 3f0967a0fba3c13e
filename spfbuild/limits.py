"""The numbers RFC 7208 and DNS fix, and spfbuild's own defaults: each written once.

A leaf module (no imports), so that every other module, the command line included, can read
these without loading anything else.
"""

# RFC 7208 section 4.6.4: terms that query DNS over one whole evaluation (include, a, mx, ptr,
# exists, redirect).
MAX_LOOKUPS = 10
# RFC 7208 section 4.6.4: lookups answered NXDOMAIN or with no records; one more is permerror.
MAX_VOID_LOOKUPS = 2
# RFC 7208 section 4.6.4: MX names per `mx` mechanism, PTR names per `ptr` mechanism or %{p}.
MAX_MX_NAMES = 10
MAX_PTR_NAMES = 10
# RFC 1035 section 3.3.14: one TXT character-string holds at most 255 octets.
MAX_STRING_BYTES = 255
# RFC 7208 section 3.4: records should fit one 512-octet UDP answer, about 450 octets of record.
MAX_RECORD_BYTES = 450
# RFC 1035 section 2.3.4 (and RFC 7208 section 7.3): a domain name in text, at most 253 octets.
MAX_DOMAIN_NAME = 253
# RFC 1035 section 2.3.4: a label holds at most 63 octets.
MAX_LABEL = 63
# RFC 1035 section 4.2.1: a DNS message over UDP without EDNS.
UDP_PAYLOAD_BYTES = 512

# spfbuild's defaults.
DEFAULT_TIMEOUT = 5.0  # seconds a DNS question may take, per command or API call
DEFAULT_MAX_SHRINK = 0.30  # share of a source's addresses that may vanish in one cron run
DEFAULT_TTL = 3600
DEFAULT_MACRO_MAX_RECORDS = 20_000  # records a macro-compiled zone may hold

# RFC 7489 section 6.3: DMARC's `pct` is a percentage; `ri` is a 32-bit count of seconds, one day
# when absent.
DMARC_PCT_MAX = 100
DMARC_DEFAULT_INTERVAL = 86400
DMARC_MAX_INTERVAL = 2**32 - 1
