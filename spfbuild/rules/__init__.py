"""Lint rules: `registry` declares every rule as data; one module per family holds its checks
(`syntax`, `policy`, `ranges`, `size` offline, `dns` over a resolved include tree)."""
