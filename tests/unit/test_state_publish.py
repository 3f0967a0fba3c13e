"""State file, shrink guards, change reports, push URLs and TSIG key files."""

from __future__ import annotations

from pathlib import Path

import pytest

from spfbuild.emit import TxtRecord
from spfbuild.pushserver import PublishError, PushTarget, load_tsig_key, parse_push_url
from spfbuild.state import DomainState, Retired, State, StateError, change_report, load_state, save_state, shrinks

KEY = 'key "spfbuild-push" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";\n};\n'


def test_state_round_trips_through_its_json_file(tmp_path: Path) -> None:
    state = State({"example.com": DomainState(
        records=(TxtRecord("example.com", "v=spf1 ip4:192.0.2.0/24 -all", 300),),
        sources={"include:_spf.example.net": ["192.0.2.0/24"]},
        updated="2026-01-01T00:00:00Z", checked="2026-01-02T00:00:00Z", published="rfc2136://127.0.0.1:53/example.com",
        retired=(Retired("_spf-0123456789.example.com", "v=spf1 ip4:198.51.100.0/24", 1.5, 300),),
    )})
    path = tmp_path / "state.json"
    save_state(path, state)
    assert load_state(path) == state
    assert load_state(path).to_json() == path.read_text()


def test_a_missing_state_file_is_an_empty_state(tmp_path: Path) -> None:
    assert load_state(tmp_path / "none.json") == State()


@pytest.mark.parametrize("text", ["{", '{"schema": 99, "domains": {}}', '{"schema": 1, "domains": {"x": {}}}', "[]"])
def test_a_broken_state_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(StateError, match=str(path)):
        load_state(path)


def test_shrink_guards() -> None:
    old = {"include:a.example": ["192.0.2.0/24"], "include:b.example": ["198.51.100.0/24"],
           "include:c.example": ["203.0.113.0/24"]}
    new = {"include:a.example": ["192.0.2.0/25"], "include:b.example": ["198.51.100.0/24", "198.51.100.0/25"],
           "include:c.example": []}
    found = {s.source: str(s) for s in shrinks(old, new, 0.30)}
    assert found == {
        "include:a.example": "include:a.example lost 50% of its addresses (256 -> 128)",
        "include:c.example": "include:c.example resolved to 256 addresses before and now to none",
    }
    assert shrinks(old, new, 0.60).__len__() == 1


def test_change_report_says_what_changed_and_why() -> None:
    old = DomainState((TxtRecord("example.com", "v=spf1 ip4:198.51.100.0/24 -all", 300),),
                      {"include:mailgun.org": ["198.51.100.0/24"], "include:spf.protection.outlook.com": []})
    records = (TxtRecord("example.com", "v=spf1 ip4:40.92.0.0/15 -all", 300),)
    lines = change_report("example.com", old, records,
                          {"include:mailgun.org": [], "include:spf.protection.outlook.com": ["40.92.0.0/15"]})
    assert lines == [
        "example.com: changed",
        "  - 198.51.100.0/24 (mailgun.org removed it)",
        "  + 40.92.0.0/15 via spf.protection.outlook.com",
        "  record example.com: v=spf1 ip4:40.92.0.0/15 -all",
    ]


@pytest.mark.parametrize(
    ("url", "target"),
    [("rfc2136://127.0.0.1:5353/example.com", PushTarget("127.0.0.1", 5353, "example.com")),
     ("rfc2136://ns1.example.com/Example.COM.", PushTarget("ns1.example.com", 53, "example.com")),
     ("rfc2136://[::1]:53/example.com", PushTarget("::1", 53, "example.com"))],
)
def test_push_urls(url: str, target: PushTarget) -> None:
    assert parse_push_url(url) == target


@pytest.mark.parametrize("url", ["http://x/example.com", "rfc2136://127.0.0.1", "rfc2136://127.0.0.1:x/e.com"])
def test_bad_push_urls(url: str) -> None:
    with pytest.raises(PublishError):
        parse_push_url(url)


def test_tsig_key_file_as_tsig_keygen_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "push.key"
    path.write_text(KEY)
    path.chmod(0o600)
    key, warnings = load_tsig_key(path)
    assert (key.name, key.algorithm, key.secret) == ("spfbuild-push", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")
    assert warnings == []


def test_a_key_file_others_can_read_gives_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "push.key"
    path.write_text(KEY)
    path.chmod(0o644)
    _, warnings = load_tsig_key(path)
    assert warnings and "readable by other users" in warnings[0]


@pytest.mark.parametrize("text", ["", "key x { };", 'key "k" { algorithm rot13; secret "YQ=="; };'])
def test_bad_key_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(text)
    with pytest.raises(PublishError, match=str(path)):
        load_tsig_key(path)
