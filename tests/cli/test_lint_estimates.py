"""`lint` counts the includes the provider catalogue knows by the catalogue's figures, says that
it estimated, and agrees with `render`, which refuses the same providers as over 10 lookups;
JSON's `lookups_exact` is true only for a count that needs no estimate."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from spfbuild.cli import application

app = application()
runner = CliRunner()
THREE = "v=spf1 include:_spf.google.com include:_netblocks.mimecast.com include:spf.protection.outlook.com -all"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_lint_is_not_clean_where_render_refuses(tmp_path: Path) -> None:
    code, out, _ = run("lint", THREE)
    assert code == 1
    assert out.splitlines()[0] == (
        "<record>:1:1: error SPF403 [estimated-too-many-lookups] about 12 DNS lookups, estimated from the provider "
        "catalogue's figures for include:_spf.google.com (4), include:_netblocks.mimecast.com (7), "
        "include:spf.protection.outlook.com (1): over the limit of 10 (`spfbuild check` counts them in DNS)"
    )
    config = tmp_path / "senders.yaml"
    config.write_text("domain: example.com\npolicy: fail\nsenders: [provider: google, provider: mimecast, "
                      "provider: office365]\n", encoding="utf-8")
    code, out, err = run("render", str(config))
    assert (code, out) == (1, "")
    assert "12 DNS lookups, over the budget of 10" in err


def test_json_says_when_the_count_is_an_estimate() -> None:
    code, out, _ = run("lint", "--json", "v=spf1 include:_spf.google.com mx -all")
    (item,) = json.loads(out)
    assert (code, item["lookups"], item["lookups_exact"]) == (0, 5, False)
    code, out, _ = run("lint", "--json", "v=spf1 mx a ip4:203.0.113.0/24 -all")
    (item,) = json.loads(out)
    assert (item["lookups"], item["lookups_exact"]) == (2, True)


def test_an_unknown_include_counts_one_and_is_never_exact() -> None:
    code, out, _ = run("lint", "--json", "v=spf1 include:spf.partner.example -all")
    (item,) = json.loads(out)
    assert (code, item["lookups"], item["lookups_exact"]) == (0, 1, False)
