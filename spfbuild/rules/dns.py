"""DNS-aware rules (SPF5xx), raised by `spfbuild check` after resolving the include tree."""
