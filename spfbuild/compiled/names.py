"""The names of a compiled zone, and the length rule they must keep (a leaf module: the config
checks a base when it is loaded).

Client names are `%{ir}.%{v}.[<include zone>.]_spf-m-<hash>.<base>`. A receiver truncates a
longer name than 253 octets from the left (RFC 7208 section 7.3), so it would ask another name:
the longest possible one, an IPv6 address by nibble under the longest include zone's label, must
fit.
"""

from __future__ import annotations

from spfbuild.limits import MAX_DOMAIN_NAME, MAX_LOOKUPS

LABEL_TEMPLATE = "_spf-m-{hash}"
COMPILED_MARK = "._spf-m-"  # in every compiled name, before its label
HASH_LENGTH = 10
IPV6_NIBBLES = 32
LONGEST_SUB = f"p{MAX_LOOKUPS + 1}"  # an include zone's label: a class letter and a position


def longest_name(root: str) -> int:
    """The length of the longest client name below a zone root: an IPv6 address by nibble."""
    return 2 * IPV6_NIBBLES + len("ip6.") + len(root)


def base_problem(base: str) -> str | None:
    """Why a compiled zone cannot live under `base`, or None."""
    root = f"{LONGEST_SUB}.{LABEL_TEMPLATE.format(hash='0' * HASH_LENGTH)}.{base}"
    length = longest_name(root)
    if length > MAX_DOMAIN_NAME:
        return (f"compiled names under {base} would be up to {length} octets long, over {MAX_DOMAIN_NAME} "
                f"(receivers would truncate them): use a base of at most {len(base) - (length - MAX_DOMAIN_NAME)} "
                "octets")
    return None


def shared_base(name: str) -> str | None:
    """The base a compiled name lives under (`...._spf-m-<hash>.<base>` -> base), or None for a
    name that is not compiled."""
    _, mark, rest = name.partition(COMPILED_MARK)
    if not mark:
        return None
    label, dot, base = rest.partition(".")
    return base if dot and len(label) == HASH_LENGTH else None
