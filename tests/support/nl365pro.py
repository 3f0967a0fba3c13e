"""The NL365Pro case of the DKIM and DMARC issue: its senders file and the records published in
its write-up, shared by the render, flatten and API tests."""

from __future__ import annotations

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
