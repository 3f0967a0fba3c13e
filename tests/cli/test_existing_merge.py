"""`render` and `flatten` merging senders into an existing record (`existing:` / `--existing`),
and keeping the order that gives the record its meaning, through the command line.

The existing record's `all` stays unless the domain's own entry sets `policy`; a record that
ends in `redirect=` gets no `all`; a record with a term that never takes effect is refused, with
nothing written. Ranges merge only where every address keeps its result: the rendered record is
evaluated beside the declared one for addresses on both sides of every term."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.memresolver import MemoryResolver
from typer.testing import CliRunner

from spfbuild.cli import application
from spfbuild.evaluation import check_host

app = application()
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def warnings(err: str) -> list[str]:
    """stderr without its notes (DKIM/DMARC alignment advice has its own tests)."""
    return [line for line in err.splitlines() if not line.startswith("spfbuild: note: ")]


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "senders.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


MSP = """\
defaults: {policy: fail}
domains:
  advocaten-deboer.nl: {existing: "v=spf1 mx ~all", senders: [{provider: mimecast, region: eu}]}
  klant.nl: {existing: "v=spf1 redirect=_spf.msp.nl", senders: [{provider: mailchimp}]}
"""


class TestTheExistingAll:
    def test_a_policy_from_defaults_keeps_the_existing_qualifier_and_says_so(self, tmp_path: Path) -> None:
        code, out, err = run("render", config(tmp_path, MSP))
        assert code == 0
        assert out.splitlines() == [
            'advocaten-deboer.nl\t"v=spf1 mx include:eu._netblocks.mimecast.com ~all"',
            'klant.nl\t"v=spf1 include:servers.mcsv.net redirect=_spf.msp.nl"',
        ]
        assert warnings(err) == ["spfbuild: warning: advocaten-deboer.nl: the existing record's ~all is kept; policy fail "
                            "from defaults: would make it -all (set policy: on the domain to change it)"]

    def test_the_domains_own_policy_replaces_it(self, tmp_path: Path) -> None:
        text = MSP.replace('{existing: "v=spf1 mx ~all",', '{policy: fail, existing: "v=spf1 mx ~all",')
        code, out, err = run("render", config(tmp_path, text))
        assert (code, warnings(err)) == (0, [])
        assert out.splitlines()[0] == 'advocaten-deboer.nl\t"v=spf1 mx include:eu._netblocks.mimecast.com -all"'

    def test_the_same_qualifier_from_defaults_needs_no_warning(self, tmp_path: Path) -> None:
        text = MSP.replace("{policy: fail}", "{policy: softfail}")
        code, out, err = run("render", config(tmp_path, text))
        assert (code, warnings(err)) == (0, [])
        assert out.splitlines()[0] == 'advocaten-deboer.nl\t"v=spf1 mx include:eu._netblocks.mimecast.com ~all"'


class TestARedirect:
    def test_new_senders_go_before_the_redirect_and_no_all_is_added(self, tmp_path: Path) -> None:
        path = config(tmp_path, "domain: klant.nl\nexisting: 'v=spf1 a redirect=_spf.msp.nl'\n"
                                "senders: [{provider: google}, {ip4: [203.0.113.9]}]\n")
        assert run("render", path, "-q") == (0, '"v=spf1 a include:_spf.google.com ip4:203.0.113.9 '
                                          'redirect=_spf.msp.nl"\n', "")

    def test_the_domains_own_policy_is_not_applied_and_that_is_said(self, tmp_path: Path) -> None:
        path = config(tmp_path, "domain: klant.nl\npolicy: fail\nexisting: 'v=spf1 redirect=_spf.msp.nl'\n"
                                "senders: [{provider: mailchimp}]\n")
        code, out, err = run("render", path)
        assert (code, out) == (0, '"v=spf1 include:servers.mcsv.net redirect=_spf.msp.nl"\n')
        assert warnings(err) == ["spfbuild: warning: klant.nl: policy fail is not applied: the existing record ends "
                                 "in redirect=_spf.msp.nl, which decides for every address no term matches "
                                 "(-all would disable it)"]


class TestRefusals:
    """A term that would never take effect: exit 1, one line, nothing written."""

    @pytest.mark.parametrize(("existing", "finding"), [
        ("v=spf1 mx -all a", "'a' comes after 'all' and is never evaluated (SPF203 [terms-after-all], column 16)"),
        ("v=spf1 mx -all redirect=_spf.msp.nl",
         "'redirect=' is ignored because the record has 'all' (SPF204 [redirect-with-all], column 16)"),
    ])
    @pytest.mark.parametrize("command", ["render", "flatten"])
    def test_in_the_config(self, tmp_path: Path, existing: str, finding: str, command: str) -> None:
        path = config(tmp_path, f"domain: klant.nl\nexisting: '{existing}'\nsenders: [mx: true]\n")
        out = tmp_path / "out.txt"
        extra = ["--nameserver", "127.0.0.1:9", "--timeout", "1"] if command == "flatten" else []
        code, stdout, err = run(command, path, "--output", str(out), *extra)
        assert (code, stdout) == (1, "")
        assert err == (f"spfbuild: error: {path}:2:11: existing record: {finding}; merging into it would change "
                       "who may send: fix the record first\n")
        assert not out.exists()

    def test_on_the_command_line(self, tmp_path: Path) -> None:
        path = config(tmp_path, "domain: klant.nl\npolicy: fail\nsenders: [mx: true]\n")
        out = tmp_path / "out.txt"
        code, stdout, err = run("render", path, "--existing", "v=spf1 ?all redirect=_spf.msp.nl", "-o", str(out))
        assert (code, stdout) == (1, "")
        assert err == ("spfbuild: error: klant.nl: existing record: 'redirect=' is ignored because the record has "
                       "'all' (SPF204 [redirect-with-all], column 13); merging into it would change who may send: "
                       "fix the record first\n")
        assert not out.exists()


class TestPastedStrings:
    """The existing text in the forms `lint` accepts: bare, or TXT strings as DNS tools show them."""

    def test_in_the_config(self, tmp_path: Path) -> None:
        path = config(tmp_path, "domain: x.example\nexisting: '\"v=spf1 mx\" \" ~all\"'\nsenders: [a: true]\n")
        assert run("render", path) == (0, '"v=spf1 mx a ~all"\n', "")

    def test_on_the_command_line(self, tmp_path: Path) -> None:
        path = config(tmp_path, "domain: x.example\npolicy: fail\nsenders: [a: true]\n")
        assert run("render", path, "-q", "--existing", '"v=spf1 ip4:203.0.113.0/24" " mx ~all"') == \
            (0, '"v=spf1 ip4:203.0.113.0/24 mx a -all"\n', "")


# ---------------------------------------------------------------------------------- order

def results(record: str, addresses: list[str]) -> list[str]:
    """check_host() for each address against `record` published at example.com (the names it
    includes do not exist: includes of them are permerror)."""
    resolver = MemoryResolver().txt("example.com", record).txt("spf.partner.example", "v=spf1 ip4:203.0.113.0/24 -all")

    async def each() -> list[str]:
        return [(await check_host(a, "example.com", "a@example.com", resolver)).result for a in addresses]

    return asyncio.run(each())


PROBES = ["192.0.2.1", "192.0.2.200", "198.51.100.1", "203.0.113.1", "203.0.113.200", "2001:db8::1",
          "2001:db8:8000::1", "2001:db9::1"]


class TestOrderIsMeaning:
    @pytest.mark.parametrize(("existing", "expected"), [
        ("v=spf1 ip4:192.0.2.0/24 include:%{ir}.%{v}._spf.list.example ip4:198.51.100.0/24 -all",
         "v=spf1 ip4:192.0.2.0/24 include:%{ir}.%{v}._spf.list.example ip4:198.51.100.0/24 -all"),
        ("v=spf1 -ip4:192.0.2.0/24 -include:%{d}.nx.example -ip4:198.51.100.0/24 ~all",
         "v=spf1 -ip4:192.0.2.0/24 -include:%{d}.nx.example -ip4:198.51.100.0/24 ~all"),
    ])
    def test_ranges_never_move_across_a_term_decided_at_evaluation_time(
            self, tmp_path: Path, existing: str, expected: str) -> None:
        path = config(tmp_path, f"domain: example.com\nexisting: '{existing}'\nsenders: [a: true]\n")
        code, out, _ = run("render", path, "-q")
        emitted = out.strip().strip('"')
        assert code == 0
        assert emitted == expected.replace(" ~all", " a ~all").replace(" -all", " a -all")
        assert results(emitted, PROBES) == results(existing.replace(" ~all", " a ~all").replace(" -all", " a -all"),
                                                   PROBES)

    def test_declaration_order_is_kept_and_ranges_merge_only_up_to_the_include(self, tmp_path: Path) -> None:
        path = config(tmp_path, """\
domain: example.com
policy: fail
senders: [ip4: [192.0.2.0/25, 192.0.2.128/25, 192.0.2.7], include: spf.partner.example,
          include: spf.partner.example, ip6: [2001:db8::/33, 2001:db8:8000::/33]]
""")
        code, out, _ = run("render", path, "-q")
        assert (code, out) == (0, '"v=spf1 ip4:192.0.2.0/24 include:spf.partner.example ip6:2001:db8::/32 -all"\n')
        declared = ("v=spf1 ip4:192.0.2.0/25 ip4:192.0.2.128/25 ip4:192.0.2.7 include:spf.partner.example "
                    "include:spf.partner.example ip6:2001:db8::/33 ip6:2001:db8:8000::/33 -all")
        assert results(out.strip().strip('"'), PROBES) == results(declared, PROBES)

    def test_ranges_merge_across_a_disjoint_range_of_another_qualifier(self, tmp_path: Path) -> None:
        path = config(tmp_path, "domain: example.com\nexisting: 'v=spf1 ip4:192.0.2.0/25 -ip4:198.51.100.1 -all'\n"
                                "senders: [ip4: [192.0.2.128/25]]\n")
        assert run("render", path, "-q") == (0, '"v=spf1 ip4:192.0.2.0/24 -ip4:198.51.100.1 -all"\n', "")
