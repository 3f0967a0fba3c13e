"""senders.yaml is read into typed specs; every mistake is one clear line naming file:line:column."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from spfbuild.catalogue import load_catalogue
from spfbuild.config import ConfigError, FlattenSettings, load_config, parse_config
from spfbuild.record import Qualifier

CATALOGUE = load_catalogue()

ISSUE_EXAMPLE = """\
domain: example.com
policy: softfail
senders:
  - provider: mimecast
    region: eu
  - provider: office365
  - include: spf.partner.example
  - ip4: [192.0.2.0/24, 198.51.100.123]
  - ip6: [2001:db8::/32]
  - a: mail.example.com
  - mx: example.com
flatten:
  max_lookups: 10
  keep: [mimecast]
"""


def load(text: str) -> object:
    return parse_config(text, "senders.yaml", CATALOGUE)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "senders.yaml", CATALOGUE)
    return str(info.value)


def test_the_single_domain_form() -> None:
    config = parse_config(ISSUE_EXAMPLE, "senders.yaml", CATALOGUE)
    (spec,) = config.domains
    assert spec.domain == "example.com"
    assert spec.policy is Qualifier.SOFTFAIL
    kinds = [s.kind for s in spec.senders]
    assert kinds == ["provider", "provider", "include", "ip4", "ip6", "a", "mx"]
    assert spec.senders[0].region == "eu"
    assert spec.senders[3].networks == (
        ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("198.51.100.123/32"))
    assert spec.flatten == FlattenSettings(max_lookups=10, keep=("mimecast",))
    assert spec.ttl == 3600


def test_multi_domain_form_inherits_defaults() -> None:
    config = parse_config(
        "defaults:\n  policy: fail\n  ttl: 600\n  senders:\n    - provider: google\n"
        "domains:\n  a.example:\n  b.example:\n    policy: softfail\n    senders:\n      - mx: true\n",
        "msp.yaml", CATALOGUE,
    )
    a, b = config.domains
    assert (a.domain, a.policy, a.ttl, a.senders[0].value) == ("a.example", Qualifier.FAIL, 600, "google")
    assert (b.policy, b.ttl, b.senders[0].kind, b.senders[0].value) == (Qualifier.SOFTFAIL, 600, "mx", None)


def test_sender_qualifier_comment_and_cidr() -> None:
    config = parse_config(
        "domain: example.com\npolicy: fail\nsenders:\n"
        "  - include: spf.partner.example\n    qualifier: neutral\n    comment: partner\n"
        "  - a: mail.example.com/24//64\n",
        "s.yaml", CATALOGUE,
    )
    inc, a = config.domains[0].senders
    assert inc.qualifier is Qualifier.NEUTRAL and inc.comment == "partner"
    assert (a.value, a.prefix4, a.prefix6) == ("mail.example.com", 24, 64)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("domain: example.com\npolicy: fail\nsenders:\n  - provider: offic365\n",
         "senders.yaml:4:15: unknown provider 'offic365'; did you mean 'office365'?"),
        ("domain: example.com\npolicy: fail\nsenders:\n  - provider: mimecast\n    region: ue\n",
         "senders.yaml:5:13: unknown region 'ue' for provider 'mimecast'"),
        ("domain: example.com\npolicy: fail\nsenders:\n  - ip4: [123.456.0.12]\n",
         "senders.yaml:4:11: ip4: '123.456.0.12' is not a valid IPv4 address"),
        ("domain: example.com\npolicy: fail\nsenders:\n  - ip4: [192.0.2.0/33]\n",
         "senders.yaml:4:11: ip4: prefix length /33 is over 32"),
        ("domain: example.com\npolicy: fail\nsenders:\n  - ip4: [192.0.2.1/24]\n",
         "senders.yaml:4:11: ip4: '192.0.2.1/24' has host bits set; did you mean '192.0.2.0/24'?"),
        ("domain: example.com\npolicy: pass\nsenders:\n  - mx: true\n",
         "senders.yaml:2:9: policy 'pass' (+all) would let anyone send as the domain"),
        ("domain: example.com\npolicy: fail\nsendres:\n  - mx: true\n",
         "senders.yaml:3:1: unknown key 'sendres' in the config; did you mean 'senders'?"),
        ("domain: example.com\npolicy: fail\nsenders:\n  - mx: true\n    ip4: [192.0.2.1]\n",
         "senders.yaml:4:5: a sender needs exactly one of provider, include, ip4, ip6, a, mx (found ip4 and mx)"),
        ("domain: example.com\npolicy: fail\nsenders: []\n", "senders.yaml:1:1: domain 'example.com' has no senders"),
        ("domain: example.com\nsenders:\n  - mx: true\n", "senders.yaml:1:1: domain 'example.com' needs 'policy:'"),
        ("domain: example.com\npolicy: fail\nsenders:\n  - include: spf.example.com –all\n",
         "senders.yaml:4:14: include 'spf.example.com –all' contains a typographic look-alike"),
        ("domain: [oops\n", "senders.yaml:2:1: invalid YAML"),
        ("domain: example.com\ndomain: example.org\n", "senders.yaml:2:1: duplicate key 'domain'"),
        ("domains:\n  a.example:\n    policy: fail\n    senders: [{mx: true}]\n  A.example.:\n    policy: fail\n"
         "    senders: [{mx: true}]\n", "senders.yaml:5:3: domain 'a.example' is listed twice"),
        ("domain: localhost\npolicy: fail\nsenders: [{mx: true}]\n", "senders.yaml:1:9: 'localhost' is not a valid"),
        ("domain: example.com\npolicy: fail\nttl: soon\nsenders: [{mx: true}]\n",
         "senders.yaml:3:6: ttl must be a whole number, got str 'soon'"),
        ("domain: example.com\npolicy: fail\nsenders: [{mx: true}]\nflatten:\n  max_lookups: 11\n",
         "senders.yaml:5:16: flatten.max_lookups must be between 0 and 10, got 11"),
        ("domain: example.com\nexisting: 'v=spf1 ip4:1.2.3.4/33 -all'\nsenders: [{mx: true}]\n",
         "senders.yaml:2:11: existing record: prefix length /33 is over 32"),
        ("- just\n- a list\n", "senders.yaml:1:1: the config must be a mapping"),
        ("", "senders.yaml: the file is empty"),
    ],
)
def test_bad_input_gives_one_line_naming_file_line_column(text: str, expected: str) -> None:
    message = error_of(text)
    assert message.startswith(expected)
    assert "\n" not in message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml", CATALOGUE)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary, CATALOGUE)


def test_yaml_tags_are_not_constructed() -> None:
    message = error_of("domain: !!python/object/apply:os.system ['true']\npolicy: fail\n")
    assert "senders.yaml:1:9" in message


def test_unknown_tags_on_scalars_are_refused() -> None:
    message = error_of("domain: !!python/name:os.system x\npolicy: fail\n")
    assert message.startswith("senders.yaml:1:9: unsupported YAML tag")
