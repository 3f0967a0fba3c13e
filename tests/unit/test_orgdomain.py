"""The organisational domain (RFC 7489 section 3.2) by the Public Suffix List the package ships:
DMARC's report destinations and the provider index both reckon with it."""

from __future__ import annotations

import pytest

from spfbuild.orgdomain import organisational_domain


@pytest.mark.parametrize(
    ("name", "organisation"),
    [
        ("nl365pro.com", "nl365pro.com"),
        ("_dmarc.nl365pro.com", "nl365pro.com"),
        ("eu-smtp-inbound-1.mimecast.com", "mimecast.com"),
        ("mail.example.co.uk", "example.co.uk"),
        # Suffixes a fixed table of second-level labels got wrong: the list knows them.
        ("reports.example.com.au", "example.com.au"),
        ("a.b.city.kawasaki.jp", "city.kawasaki.jp"),
        ("dmarc.customer.github.io", "customer.github.io"),
        # Case and the trailing dot do not matter.
        ("Mail.Example.COM.", "example.com"),
        # Names under suffixes the list does not know: the last label is the suffix.
        ("d00001.bulk.test", "bulk.test"),
        ("x.y.example", "y.example"),
    ],
)
def test_organisational_domain(name: str, organisation: str) -> None:
    assert organisational_domain(name) == organisation


def test_a_public_suffix_is_its_own_organisation() -> None:
    assert organisational_domain("co.uk") == "co.uk"


def test_the_list_is_read_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the public suffix list must not be fetched")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    from spfbuild import orgdomain

    orgdomain._list.cache_clear()
    assert organisational_domain("mail.example.org.uk") == "example.org.uk"
