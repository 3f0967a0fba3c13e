"""Lint rules: `registry` declares the SPF rules as data and lists every rule, `dmarc_rules` declares
the DMARC rules; one module per family holds its checks (`syntax`, `policy`, `ranges`, `size`
offline, `dns` over a resolved include tree, `dmarc`)."""
