"""Fuzzing the config loader: whatever the document, the result is a config or one clean
`ConfigError` line naming the file, line and column, never another exception.

Three sources of documents: arbitrary text; arbitrary YAML data dumped by PyYAML; and text
generated from a YAML-ish grammar shaped like senders.yaml (real keys, providers, regions,
addresses, and near misses), written in block or flow style with tags, anchors, aliases,
comments, odd quoting and odd indentation. Configs that load must also render or fail with a
`RenderError`.

Example counts come from the hypothesis profile (tests/conftest.py): HYPOTHESIS_PROFILE=long
runs many more.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from spfbuild.catalogue import load_catalogue
from spfbuild.config import DOMAIN_KEYS, FLATTEN_KEYS, SENDER_KINDS, Config, ConfigError, load_config, parse_config
from spfbuild.mechanisms import domain_problem
from spfbuild.rendering import RenderError, render_domain

CATALOGUE = load_catalogue()
FILENAME = "fuzz/senders.yaml"
WHOLE_FILE_MESSAGES = ("the file is empty",)
_LOCATED = re.compile(rf"{re.escape(FILENAME)}:(\d+):(\d+): \S")


def load(text: str) -> Config | str:
    """The config, or the error message after checking its form."""
    try:
        return parse_config(text, FILENAME, CATALOGUE)
    except ConfigError as exc:
        message = str(exc)
    assert "\n" not in message and "Traceback" not in message, message
    located = _LOCATED.match(message)
    if located is None:
        assert message in tuple(f"{FILENAME}: {m}" for m in WHOLE_FILE_MESSAGES), message
        return message
    line, column = int(located.group(1)), int(located.group(2))
    lines = re.split("\r\n|[\r\n\x85\u2028\u2029]", text)  # the line breaks YAML counts
    assert 1 <= line <= len(lines) + 1, (message, len(lines))
    assert 1 <= column <= (len(lines[line - 1]) if line <= len(lines) else 0) + 2, message
    return message


def check_loaded(config: Config | str) -> None:
    if isinstance(config, str):
        return
    assert config.domains
    for spec in config.domains:
        assert domain_problem(spec.domain) is None, spec.domain
        assert spec.senders or spec.existing is not None
        assert spec.policy is not None or spec.existing is not None
        try:
            render_domain(spec, CATALOGUE)
        except RenderError as exc:
            assert str(exc).startswith(f"{spec.domain}: ") and "\n" not in str(exc)


# ---------------------------------------------------------------- any text, any YAML data


@given(st.text(max_size=200))
@settings()
def test_any_text(text: str) -> None:
    check_loaded(load(text))


@given(st.text(alphabet=" \n\t-:?[]{},&*!|>'\"#%@`~.0123456789abdeimnoprstwxyz_/", max_size=160))
@settings()
def test_yaml_punctuation_soup(text: str) -> None:
    check_loaded(load(text))


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20),
)
yaml_data = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from([*DOMAIN_KEYS, "domains", "defaults", *SENDER_KINDS]), yaml_scalars),
                        children, max_size=5),
    ),
    max_leaves=25,
)


@given(yaml_data, st.sampled_from([None, True, False]))
@settings()
def test_any_yaml_data(data: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    check_loaded(load(text))


# ---------------------------------------------------------------- a YAML-ish grammar of configs

providers = sorted(CATALOGUE.ids)
regions = sorted({r for p in CATALOGUE for r in p.region_names} | {"ue", "EU", "", "global "})
good_domains = ["example.com", "a.example", "mail.example.com.", "EXAMPLE.ORG", "xn--bcher-kva.example"]
bad_domains = ["localhost", "exa mple.com", "a..b", "-", "example.com/24", "x" * 64 + ".com", "ex\u2013ample.com",
               "ex\u200bample.com", "\u201cexample.com\u201d", "a." * 130 + "com", "192.0.2.1", "例え.jp"]
ip4s = ["192.0.2.0/24", "198.51.100.7", "192.0.2.1/24", "192.0.2.0/33", "10.0.0.0/8", "256.1.1.1", "192.0.2.0/-1",
        "0.0.0.0/0", "192.0.2.0 /24", "192.0.2.0/24/24", "192.0.2.0\u2013192.0.2.9", "3232235777", ""]
ip6s = ["2001:db8::/32", "2001:db8::1", "2001:db8::1/32", "2001:db8::/129", "::ffff:192.0.2.1", "2001:db8:::1", "fe80::1%eth0"]
words = ["fail", "softfail", "neutral", "pass", "+all", "~", "-", "?", "true", "false", "yes", "no", "on", "null", "~all"]
tags = ["", "", "", "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!binary ", "!!timestamp ", "!!set ",
        "!!omap ", "!!python/object:os.system ", "!!python/name:os.system ", "!custom ", "!<tag:yaml.org,2002:str> "]


@st.composite
def scalars(draw: st.DrawFn, pool: list[str]) -> str:
    """A scalar as YAML text: plain, single- or double-quoted, block literal; sometimes tagged."""
    value = draw(st.one_of(st.sampled_from(pool), st.sampled_from(words), st.integers(-5, 70000).map(str),
                           st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)))
    style = draw(st.sampled_from(["plain", "plain", "single", "double", "literal"]))
    if style == "single":
        value = "'" + value.replace("'", "''") + "'"
    elif style == "double":
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif style == "literal":
        value = "|\n  " + value.replace("\n", "\n  ")
    return draw(st.sampled_from(tags)) + value


@st.composite
def senders(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from([*SENDER_KINDS, "provder", "ip", "spf"]))
    pools: dict[str, list[str]] = {
        "provider": [*providers, "offic365", "Google", "mail chimp"], "include": [*good_domains, *bad_domains],
        "ip4": ip4s, "ip6": ip6s, "a": [*good_domains, "true", "/24"], "mx": [*good_domains, "true", "//64"],
    }
    pool = pools.get(kind, ip4s)
    value: Any = draw(st.one_of(scalars(pool), st.lists(scalars(pool), max_size=3)))
    item: dict[str, Any] = {kind: value}
    for extra, extra_pool in (("region", regions), ("variant", ["impersonation", "x"]),
                              ("qualifier", words), ("comment", ["partner", "#", ""]), ("bogus", words)):
        if draw(st.integers(0, 5)) == 0:
            item[extra] = draw(scalars(extra_pool))
    if draw(st.integers(0, 9)) == 0:
        item[draw(st.sampled_from(SENDER_KINDS))] = draw(scalars(good_domains))  # two kinds
    return item


@st.composite
def domain_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if draw(st.integers(0, 6)):
        body["policy"] = draw(scalars(words))
    if draw(st.integers(0, 6)):
        body["senders"] = draw(st.one_of(st.lists(senders(), max_size=4), scalars(providers)))
    if draw(st.integers(0, 4)) == 0:
        body["existing"] = draw(scalars(["v=spf1 mx -all", "v=spf1 ip4:192.0.2.0/33 -all", "v=spf1 include: ~all",
                                         "spf1 -all", "v=spf1 redirect=%{q}"]))
    if draw(st.integers(0, 4)) == 0:
        body["ttl"] = draw(scalars(["300", "-1", "3.5", "2147483648", "1h"]))
    if draw(st.integers(0, 4)) == 0:
        flatten: dict[str, Any] = {}
        for key in draw(st.lists(st.sampled_from([*FLATTEN_KEYS, "max_lookup"]), max_size=3, unique=True)):
            flatten[key] = draw(scalars(["0", "10", "11", "64", "5000", "_spf{n}", "{x}", "mimecast", "true"]))
        body["flatten"] = flatten
    if draw(st.integers(0, 8)) == 0:
        body[draw(st.sampled_from(["sender", "polcy", "domian", "", "<<"]))] = draw(scalars(words))
    return body


@st.composite
def config_documents(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return {"domain": draw(scalars(good_domains + bad_domains)), **draw(domain_bodies())}
    names = draw(st.lists(st.sampled_from(good_domains + bad_domains), min_size=0, max_size=4))
    doc: dict[str, Any] = {"domains": {draw(scalars([n])): draw(st.one_of(st.none(), domain_bodies())) for n in names}}
    if draw(st.booleans()):
        doc["defaults"] = draw(domain_bodies())
    return doc


class _Writer:
    """Writes a document tree as YAML text, choosing block or flow style per collection and
    sometimes adding anchors, aliases, comments and stray indentation."""

    def __init__(self, draw: st.DrawFn):
        self.draw = draw
        self.anchors: list[str] = []

    def decorate(self, text: str) -> str:
        roll = self.draw(st.integers(0, 19))
        if roll == 0 and self.anchors:
            return "*" + self.draw(st.sampled_from(self.anchors))
        if roll == 1:
            name = f"a{len(self.anchors)}"
            self.anchors.append(name)
            return f"&{name} {text}"
        return text

    def flow(self, node: Any) -> str:
        if isinstance(node, dict):
            return "{" + ", ".join(f"{self.key(k)}: {self.flow(v)}" for k, v in node.items()) + "}"
        if isinstance(node, list):
            return "[" + ", ".join(self.flow(v) for v in node) + "]"
        if node is None:
            return ""
        text = str(node)
        return "'" + text.replace("'", "''") + "'" if text.startswith("|") or "\n" in text else text

    def key(self, key: Any) -> str:
        return str(key).split("\n")[0]

    def block(self, node: Any, indent: int) -> list[str]:
        pad = " " * indent
        lines: list[str] = []
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict | list) and value and self.draw(st.integers(0, 3)):
                    lines.append(f"{pad}{self.key(key)}:" + self.comment())
                    lines += self.block(value, indent + self.draw(st.sampled_from([2, 2, 4, 1, 0])))
                else:
                    lines.append(f"{pad}{self.key(key)}: {self.decorate(self.flow(value))}".rstrip())
        elif isinstance(node, list):
            for value in node:
                inner = self.block(value, indent + 2) if isinstance(value, dict) and value else None
                if inner:
                    lines.append(f"{pad}- {inner[0].lstrip()}")
                    lines += inner[1:]
                else:
                    lines.append(f"{pad}- {self.decorate(self.flow(value))}".rstrip())
        else:
            lines.append(pad + self.flow(node))
        return lines

    def comment(self) -> str:
        return self.draw(st.sampled_from(["", "", "", "  # note", " #", "\t"]))


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    doc = draw(config_documents())
    writer = _Writer(draw)
    body = writer.flow(doc) if draw(st.integers(0, 4)) == 0 else "\n".join(writer.block(doc, 0))
    head = draw(st.sampled_from(["", "", "---\n", "%YAML 1.1\n---\n", "# senders\n", "\ufeff", "--- !!map\n"]))
    tail = draw(st.sampled_from(["", "", "\n", "\n...\n", "\n---\ndomain: x\n", "\n\t\n"]))
    return head + body + tail


@given(config_texts())
@settings()
def test_config_shaped_documents(text: str) -> None:
    check_loaded(load(text))


@given(config_texts(), st.data())
@settings()
def test_config_shaped_documents_with_a_mutation(text: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(text)))
    action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    piece = data.draw(st.sampled_from([":", "-", " ", "\n", "\t", "'", '"', "[", "{", "&", "*", "!", "#", "%",
                                       "\u2013", "\u200b", "\u201c", "\x00", "\x1b", "\ufeff", "|", ">"]))
    if action == "insert":
        text = text[:position] + piece + text[position:]
    elif action == "delete":
        text = text[:position] + text[position + 1 :]
    else:
        text = text[:position] + piece + text[position + 1 :]
    check_loaded(load(text))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-config")


@given(data=st.binary(max_size=120))
@settings()
def test_any_file_contents(scratch: Path, data: bytes) -> None:
    path = scratch / "senders.yaml"
    path.write_bytes(data)
    try:
        config = load_config(path, CATALOGUE)
    except ConfigError as exc:
        assert str(exc).startswith(f"{path}:") and "\n" not in str(exc), str(exc)
        return
    check_loaded(config)
