"""DKIM key records (RFC 6376 section 3.6.1) as spfbuild reads them: a key given in a config
becomes one canonical TXT record, refused in one line when it is not a key; a TXT value found at
a selector's name is spfbuild's to replace only when it declares itself a DKIM key."""

from __future__ import annotations

import base64

import pytest

from spfbuild.dkim import DkimError, dkim_name, is_dkim_key, key_record, selector_problem

KEY = base64.b64encode(b"\x30\x82" + bytes(range(60))).decode()


@pytest.mark.parametrize("given", [
    KEY,  # the base64 key alone
    f"v=DKIM1; k=rsa; p={KEY}",
    f"v=DKIM1;k=rsa;p={KEY[:20]} {KEY[20:]}",  # pasted with a break inside the key
    f"-----BEGIN PUBLIC KEY-----\n{KEY[:30]}\n{KEY[30:]}\n-----END PUBLIC KEY-----",
])
def test_a_key_however_given_becomes_one_record(given: str) -> None:
    assert key_record(given) == f"v=DKIM1; k=rsa; p={KEY}"


@pytest.mark.parametrize(("given", "problem"), [
    ("not a key!", "the public key is not base64"),
    (f"k=rsa; v=DKIM1; p={KEY}", "v= must come first and be DKIM1"),
    (f"v=DKIM1; k=dsa; p={KEY}", "k=dsa is not a key type"),
    ("v=DKIM1; k=rsa; p=", "the record has no public key"),
    (f"v=DKIM1; p={KEY}; p={KEY}", "the tag 'p' is given twice"),
])
def test_what_is_not_a_key_is_refused_in_one_line(given: str, problem: str) -> None:
    with pytest.raises(DkimError, match=problem):
        key_record(given)


@pytest.mark.parametrize(("value", "mine"), [
    (f"v=DKIM1; k=rsa; p={KEY}", True),
    (" v = DKIM1 ;p=", True),  # a broken key is still a key record: replacing it is right
    (f"k=rsa; p={KEY}", False),  # no version: it does not say what it is
    ("google-site-verification=abc", False),
    ("v=DMARC1; p=none", False),
])
def test_only_a_value_that_declares_itself_a_dkim_key_is_one(value: str, mine: bool) -> None:
    assert is_dkim_key(value) is mine


def test_a_selector_is_one_or_more_labels_under_domainkey() -> None:
    assert dkim_name("s1", "example.com") == "s1._domainkey.example.com"
    assert selector_problem("s1.eu") is None
    assert selector_problem("google") is None
    problem = selector_problem("bad selector")
    assert problem is not None and "is not a DKIM selector" in problem
    assert selector_problem("a..b") is not None
