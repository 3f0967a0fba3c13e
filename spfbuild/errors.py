"""The root of every error spfbuild raises to its callers.

Each concept keeps its own error beside its code (`ConfigError` in config, `FlattenError` in
partition, ...); all of them derive from `SPFBuildError`, so a caller of the Python API can catch
spfbuild's failures, and only those, with one `except`.
"""


class SPFBuildError(Exception):
    """A failure spfbuild explains in one line (its message), never a bug."""


class ArgumentError(SPFBuildError, ValueError):
    """An argument spfbuild cannot use: a bad address, nameserver or timeout."""
