"""How `spfbuild check` shows a report to people: the include tree, costs, notes and findings."""

from __future__ import annotations

import asyncio

from support.memresolver import MemoryResolver

from spfbuild.audit import DEFAULT_CONCURRENCY, Report, audit
from spfbuild.cli import check as cli


def shown(resolver: MemoryResolver, domain: str = "example.com") -> list[str]:
    report: Report = asyncio.run(audit(domain, resolver))
    return cli.render(report)


def test_the_cli_default_concurrency_is_the_library_default() -> None:
    assert cli.DEFAULT_CONCURRENCY == DEFAULT_CONCURRENCY


def test_branches_in_record_order_with_notes_for_what_was_not_followed() -> None:
    resolver = MemoryResolver().txt(
        "example.com", "v=spf1 a include:%{i}.spf.example.com exists:%{i}.x.example.com redirect=r.example.com"
    )
    resolver.txt("r.example.com", "v=spf1 -all").add("example.com", "A", "192.0.2.1")
    assert shown(resolver) == [
        "example.com  (4 lookups)  v=spf1 a include:%{i}.spf.example.com exists:%{i}.x.example.com "
        "redirect=r.example.com",
        "├── a  (1)  [1 address, void for IPv6]",
        "├── include:%{i}.spf.example.com  (1)  [depends on the sender: not followed]",
        "├── exists:%{i}.x.example.com  (1)  [depends on the sender]",
        "└── redirect=r.example.com  (1)",
    ]


def test_domain_without_a_record() -> None:
    assert shown(MemoryResolver()) == [
        "example.com  (0 lookups)  [no SPF record: the name does not exist]",
        "error SPF501 [no-spf-record] example.com has no SPF record (NXDOMAIN from memory for example.com TXT)",
    ]


def test_invalid_name_is_not_checked() -> None:
    assert shown(MemoryResolver(), "not a domain") == [
        "not a domain  (not checked)",
        "error SPF500 [invalid-domain-name] 'not a domain' is not a valid domain name: a domain name holds only "
        "letters, digits, hyphens and underscores, between dots",
    ]


def test_lint_findings_give_their_column() -> None:
    lines = shown(MemoryResolver().txt("example.com", "v=spf1 ip4:192.0.2.0/33 -all"))
    assert lines[-1] == "error SPF109 [invalid-cidr] column 21: prefix length /33 is over 32"


def test_nested_findings_are_indented_under_their_include() -> None:
    resolver = MemoryResolver().txt("example.com", "v=spf1 include:a.example.com mx -all")
    resolver.txt("a.example.com", "v=spf1 include:b.example.com ~all").txt("b.example.com", "v=spf1 +all")
    resolver.add("example.com", "MX", (10, "mx.example.com")).add("mx.example.com", "A", "192.0.2.2")
    assert shown(resolver) == [
        "example.com  (3 lookups)  v=spf1 include:a.example.com mx -all",
        "├── include:a.example.com  (2)",
        "│   └── include:b.example.com  (1)",
        "│         error SPF511 [included-pass-all] include:b.example.com in a.example.com: the record of "
        "b.example.com ends with +all and matches every host",
        "└── mx  (1)  [1 MX name, 1 address]",
    ]
