"""The NL365Pro case of the DKIM and DMARC issue: its senders file and the records published in
its write-up, shared by the render, flatten and API tests."""

from __future__ import annotations

from pathlib import Path

CONFIG = """\
domain: nl365pro.com
policy: fail
senders:
  - provider: office365
    dkim: {tenant: exchangelabsnl}     # the tenant's initial onmicrosoft.com name
  - provider: mailchimp
    dkim: true
  - ip4: [178.251.192.3]
dmarc:
  policy: none
  subdomain_policy: reject
  pct: 100
  rua: [mailto:NL365Dmarc@nl365pro.com]
"""
SPF = "v=spf1 include:spf.protection.outlook.com include:servers.mcsv.net ip4:178.251.192.3 -all"
DMARC = "v=DMARC1; p=none; sp=reject; pct=100; rua=mailto:NL365Dmarc@nl365pro.com"
CNAMES = {
    "selector1._domainkey.nl365pro.com": "selector1-nl365pro-com._domainkey.exchangelabsnl.onmicrosoft.com",
    "selector2._domainkey.nl365pro.com": "selector2-nl365pro-com._domainkey.exchangelabsnl.onmicrosoft.com",
    "k1._domainkey.nl365pro.com": "dkim.mcsv.net",
}


def octodns_records(text: str, folder: Path) -> dict[tuple[str, str], object]:
    """`--format octodns` output for nl365pro.com as octoDNS's YamlProvider reads it back from
    `folder`: (relative name, type) -> the values of a TXT record, the value of any other."""
    from octodns.provider import yaml as octodns_yaml
    from octodns.zone import Zone

    folder.mkdir()
    (folder / "nl365pro.com.yaml").write_text(text, encoding="utf-8")
    zone = Zone("nl365pro.com.", [])
    octodns_yaml.YamlProvider("config", str(folder), enforce_order=True, escaped_semicolons=True).populate(zone)
    return {(r.name, r._type): (r.values if r._type == "TXT" else r.value) for r in zone.records}
