"""The `publish:` key: where `flatten --state` publishes a domain, read with every mistake one
clear line naming file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from spfbuild.catalogue import load_catalogue
from spfbuild.config import ConfigError, PublishSpec, load_config, parse_config

CATALOGUE = load_catalogue()

MANY = """\
defaults:
  policy: fail
  senders: [{ip4: [192.0.2.1]}]
  publish:
    rfc2136: "rfc2136://ns1.example.net:5353"
    tsig_key: keys/push.key
domains:
  example.com:
  shop.example.org:
    publish: {rfc2136: "rfc2136://[2001:db8::53]/example.org", tsig_key: /etc/spfbuild/org.key}
  other.example:
    publish: {rfc2136: "rfc2136://ns2.example.net", tsig_key: org.key, zone: Other.Example.}
"""


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "senders.yaml", CATALOGUE)
    return str(info.value)


def test_defaults_give_every_domain_a_target_and_a_domain_may_set_its_own(tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(MANY)
    specs = {spec.domain: spec.publish for spec in load_config(path, CATALOGUE).domains}
    assert specs == {
        "example.com": PublishSpec("ns1.example.net", 5353, tmp_path.resolve() / "keys/push.key", None),
        "shop.example.org": PublishSpec("2001:db8::53", 53, Path("/etc/spfbuild/org.key"), "example.org"),
        "other.example": PublishSpec("ns2.example.net", 53, tmp_path.resolve() / "org.key", "other.example"),
    }


def test_a_domain_without_publish_has_none() -> None:
    (spec,) = parse_config("domain: example.com\npolicy: fail\nsenders: [{ip4: [192.0.2.1]}]\n", "s.yaml",
                           CATALOGUE).domains
    assert spec.publish is None


ONE = "domain: example.com\npolicy: fail\nsenders: [{ip4: [192.0.2.1]}]\npublish:\n"


@pytest.mark.parametrize(
    ("publish", "message"),
    [
        ('  rfc2136: "rfc2136://ns1"\n  tsig_key: k\n  zon: example.com\n',
         "senders.yaml:7:3: unknown key 'zon' in publish; did you mean 'zone'?"),
        ('  rfc2136: "rfc2136://ns1"\n',
         "senders.yaml:5:3: publish needs 'tsig_key:'"),
        ('  rfc2136: "https://ns1/example.com"\n  tsig_key: k\n',
         "senders.yaml:5:12: publish.rfc2136: 'https://ns1/example.com' is not of the form "
         "rfc2136://HOST[:PORT][/ZONE]"),
        ('  rfc2136: "rfc2136://ns1:x"\n  tsig_key: k\n',
         "senders.yaml:5:12: publish.rfc2136: bad port in 'rfc2136://ns1:x'"),
        ('  rfc2136: "rfc2136://ns1/example.com"\n  tsig_key: k\n  zone: example.org\n',
         "senders.yaml:7:9: publish.zone 'example.org' differs from the zone 'example.com' in publish.rfc2136"),
        ('  rfc2136: "rfc2136://ns1/example.org"\n  tsig_key: k\n',
         "senders.yaml:5:12: domain 'example.com' is not inside the publish zone 'example.org'"),
        ('  rfc2136: "rfc2136://ns1"\n  tsig_key: [a, b]\n',
         "senders.yaml:6:13: expected a single value"),
    ],
)
def test_mistakes_name_their_place(publish: str, message: str) -> None:
    assert error_of(ONE + publish).startswith(message)


def test_publish_must_be_a_mapping() -> None:
    assert error_of(ONE.replace("publish:\n", "publish: rfc2136://ns1\n")).startswith(
        "senders.yaml:4:10: publish must be a mapping")
