"""Internationalised domain names (IDNA 2008) in configs and on the command line: records and
DNS questions use A-labels, messages and JSON show both forms, an invalid name is one clear
error (exit 1 in a config, 64 on the command line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from spfbuild.cli import application

app = application()
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "senders.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_config_names_domains_in_unicode_and_gets_a_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "domain: Bücher.example\npolicy: fail\n"
                           "senders: [include: _spf.straße.de, a: mail.bücher.example, ip4: [192.0.2.1]]\n")
    code, out, err = run("render", path)
    assert (code, out) == (0, '"v=spf1 include:_spf.xn--strae-oqa.de a:mail.xn--bcher-kva.example ip4:192.0.2.1 -all"\n')
    assert err == ("spfbuild: warning: xn--bcher-kva.example (bücher.example): SPF302 [non-public-range] "
                   "'ip4:192.0.2.1' is in the documentation range 192.0.2.0/24\n")
    code, out, _ = run("render", path, "-F", "json", "-q")
    (item,) = json.loads(out)
    assert (item["domain"], item["domain_unicode"]) == ("xn--bcher-kva.example", "bücher.example")
    code, out, _ = run("render", path, "-F", "zone", "-q")
    assert "\n; xn--bcher-kva.example (bücher.example)\nxn--bcher-kva.example.\t3600\tIN\tTXT\t" in out


def test_an_invalid_name_in_a_config_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "domain: example.com\npolicy: fail\nsenders: [mx: mail.☃.example]\n")
    assert run("render", path) == (1, "", f"spfbuild: error: {path}:3:15: 'mail.☃.example' is not a valid "
                                          "internationalised domain name: label '☃' is not allowed by IDNA 2008\n")


def test_eval_asks_the_a_label_and_refuses_an_invalid_sender_domain() -> None:
    code, out, err = run("eval", "--ip", "192.0.2.1", "--sender", "a@☃.example", "--nameserver", "127.0.0.1:9")
    assert (code, out) == (64, "")
    assert err == ("spfbuild: error: --sender: '☃.example' is not a valid internationalised domain name: "
                   "label '☃' is not allowed by IDNA 2008\n")
    code, out, _ = run("eval", "--ip", "192.0.2.1", "--sender", "a@bücher.example", "--json",
                       "--nameserver", "127.0.0.1:9", "--timeout", "1")
    assert (code, json.loads(out)["domain"]) == (0, "xn--bcher-kva.example")


def test_check_shows_both_forms() -> None:
    done = subprocess.run([sys.executable, "-m", "spfbuild", "check", "--json", "bücher.example", "☃.example",
                           "--nameserver", "127.0.0.1:9", "--timeout", "1"],
                          capture_output=True, text=True, timeout=60, check=False)
    first, second = json.loads(done.stdout)
    assert (first["domain"], first["domain_ascii"]) == ("bücher.example", "xn--bcher-kva.example")
    assert first["tree"]["domain"] == "xn--bcher-kva.example"
    assert [f["code"] for f in second["findings"]] == ["SPF500"]
    assert "label '☃' is not allowed by IDNA 2008" in second["findings"][0]["message"]
