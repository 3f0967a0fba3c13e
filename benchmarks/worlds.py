"""The DNS worlds of the capacity benchmarks: a big tenant, and a provider's many client domains.

Both are served by benchmarks/dnsserver.py from the fixture zones (tests/bind/zones) plus the
zones written here. Nothing here is real beyond what the fixture zones say of themselves: the
extra providers' records (Mailgun, Postmark, Atlassian) are plausible stand-ins on documentation
and private ranges, shaped like the published ones (includes two deep, a dozen ranges).
"""

from __future__ import annotations

import random
from pathlib import Path

TENANT = "tenant.example"

# Seventeen senders: six large providers, the tricky records of flat.test (exclusions inside an
# include, a `?include:`, a `~all` record, a redirect, a/24 and mx/24//64, a four-deep chain),
# a sender with `exists:%{i}` (Salesforce, kept as written), and four more providers.
TENANT_CONFIG = f"""\
domain: {TENANT}
policy: fail
senders:
  - provider: office365
  - provider: google
  - provider: mailchimp
  - provider: mimecast
  - provider: sendgrid
  - provider: amazon-ses
  - include: excl.flat.test          # -ip4 exclusions, then ~all
  - include: neutral.flat.test
    qualifier: neutral               # ?include
  - include: soft.flat.test          # a ~all record, split by the next term's range
  - ip4: [198.51.100.64/26]
  - include: redir.flat.test         # redirect= inside
  - a: host.flat.test/24
  - mx: flat.test/24//64
  - provider: salesforce             # exists:%{{i}}._spf.mta.salesforce.com
  - include: d1.flat.test            # four deep
  - provider: zendesk
  - provider: mailgun
  - provider: postmark
  - provider: atlassian
"""

EXTRA_ZONES = {
    "mailgun.org": [
        ("@", "v=spf1 include:_spf.mailgun.org include:_spf.eu.mailgun.org ~all"),
        ("_spf", "v=spf1 include:_spf1.mailgun.org include:_spf2.mailgun.org ~all"),
        ("_spf1", "v=spf1 ip4:10.160.0.0/20 ip4:10.160.16.0/20 ip4:10.161.0.0/21 ip4:10.161.64.0/20 ~all"),
        ("_spf2", "v=spf1 ip4:10.162.0.0/19 ip4:10.162.40.0/21 ip4:10.163.1.0/24 ~all"),
        ("_spf.eu", "v=spf1 ip4:10.170.0.0/21 ip4:10.170.16.0/22 ~all"),
    ],
    "mtasv.net": [
        ("spf", "v=spf1 ip4:10.180.0.0/24 ip4:10.180.4.0/22 ip4:10.180.16.0/21 ip4:10.180.32.0/24 ~all"),
    ],
    "atlassian.net": [
        ("_spf", "v=spf1 include:_spf.atlassian.com ~all"),
    ],
    "atlassian.com": [
        ("_spf", "v=spf1 ip4:10.190.0.0/21 ip4:10.190.12.0/22 ip6:2001:db8:190::/48 ~all"),
    ],
    TENANT: [
        ("@", "google-site-verification=Yw7f1m0dT6x2PqN9c3JbVhKzR8sLa4UeWgXo5iDyCjE"),
    ],
}

# The common providers of a small client domain, as an MSP sees them.
CLIENT_PROVIDERS = ("office365", "google", "mailchimp", "sendgrid", "amazon-ses", "zendesk", "mailgun", "postmark")
CLIENTS_ZONE = "clients.example"


def zone_text(origin: str, records: list[tuple[str, str]]) -> str:
    lines = [f"$ORIGIN {origin}.", "$TTL 300", f"@ IN SOA ns.{origin}. hostmaster.{origin}. ( 1 3600 900 604800 300 )",
             f"@ IN NS ns.{origin}.", "ns IN A 127.0.0.1"]
    lines += [f'{name} IN TXT "{text}"' for name, text in records]
    return "\n".join(lines) + "\n"


def write_tenant_zones(directory: Path) -> None:
    for origin, records in EXTRA_ZONES.items():
        (directory / f"{origin}.zone").write_text(zone_text(origin, records))


def client_domains(count: int, seed: int = 15) -> list[tuple[str, tuple[str, ...], str]]:
    """(domain, providers, own range) for `count` client domains, the same for a seed."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        providers = tuple(rng.sample(CLIENT_PROVIDERS, rng.randint(1, 4)))
        own = f"10.{200 + n // 65536 % 50}.{n // 256 % 256}.{n % 256}"
        out.append((f"c{n:05d}.{CLIENTS_ZONE}", providers, own))
    return out


def clients_config(count: int, max_lookups: int | None = None) -> str:
    lines = ["defaults:", "  policy: fail"]
    if max_lookups is not None:
        lines += ["  flatten:", f"    max_lookups: {max_lookups}"]
    lines.append("domains:")
    for domain, providers, own in client_domains(count):
        lines += [f"  {domain}:", "    senders:"]
        lines += [f"      - provider: {p}" for p in providers]
        lines.append(f"      - ip4: [{own}]")
    return "\n".join(lines) + "\n"


def write_clients_zone(directory: Path, count: int) -> None:
    """Each client domain with one site-verification TXT record (what the byte budget reads)."""
    records = [(domain.removesuffix(f".{CLIENTS_ZONE}"), f"verification={n:08x}")
               for n, (domain, _, _) in enumerate(client_domains(count))]
    (directory / f"{CLIENTS_ZONE}.zone").write_text(zone_text(CLIENTS_ZONE, records))
