"""senders.yaml -> typed domain specs. Every error names the file, line and column.

:mod:`~spfbuild.config.model` holds the values, :mod:`~spfbuild.config.nodes` reads YAML nodes
with their positions, :mod:`~spfbuild.config.senders` reads one sender entry and
:mod:`~spfbuild.config.document` the document around them.
"""

from spfbuild.config.document import load_config, parse_config
from spfbuild.config.model import (
    DOMAIN_KEYS,
    FLATTEN_KEYS,
    POLICIES,
    QUALIFIERS,
    SENDER_KINDS,
    Config,
    ConfigError,
    DkimRequest,
    DomainSpec,
    FlattenSettings,
    Location,
    PublishSpec,
    Sender,
)

__all__ = [
    "DOMAIN_KEYS", "FLATTEN_KEYS", "POLICIES", "QUALIFIERS", "SENDER_KINDS", "Config", "ConfigError", "DkimRequest",
    "DomainSpec", "FlattenSettings", "Location", "PublishSpec", "Sender", "load_config", "parse_config",
]
