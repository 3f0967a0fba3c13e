"""spfbuild: build, flatten, validate and publish SPF (RFC 7208) records."""

__version__ = "0.1.0"
