"""Hundreds of domains in one run, against a real BIND 9 serving two customer zones that accept
TSIG-signed updates: one domain's failure is that domain's alone, one file per domain in every
format, and `--check` writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.named import NamedFactory, NamedServer, find_tool, fixture_zones

ZONES = ("one.test", "two.test")
BROKEN = "c07.two.test"  # its sender has no SPF record


def zone_text(origin: str) -> str:
    return (f"$TTL 300\n@ IN SOA ns.{origin}. hostmaster.{origin}. ( 1 3600 900 604800 300 )\n"
            f"@ IN NS ns.{origin}.\nns IN A 127.0.0.1\n")


def domains() -> list[str]:
    return [f"c{n:02}.{zone}" for zone in ZONES for n in range(1, 11)]


def config_text(extra_defaults: str = "", broken: str | None = BROKEN) -> str:
    """20 domains in two zones: every one sends through Mailchimp and its own range."""
    lines = ["defaults:", "  policy: fail", "  ttl: 1", *extra_defaults.splitlines(), "domains:"]
    for n, domain in enumerate(domains()):
        lines += [f"  {domain}:", "    senders:", "      - provider: mailchimp",
                  f"      - ip4: [198.51.100.{n}]"]
        if domain == broken:
            lines.append("      - include: nosuch.flat.test")
    return "\n".join(lines) + "\n"


@pytest.fixture
def server(named_factory: NamedFactory) -> NamedServer:
    zones = fixture_zones()
    zones |= {zone: zone_text(zone) for zone in ZONES}
    server = named_factory(zones, updatable=ZONES)
    server.tsig_key.path.chmod(0o600)
    return server


def spfbuild(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfbuild", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def without_notes(err: str) -> list[str]:
    """stderr without Mailchimp's alignment advice for each domain (tested on its own)."""
    return [line for line in err.splitlines() if not line.startswith("spfbuild: note: ")]


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "senders.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_broken_domain_leaves_the_other_nineteen_flattened(server: NamedServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text())
    done = spfbuild("flatten", config, "--nameserver", server.nameserver, "-F", "json")
    assert done.returncode == 1, done.stderr
    emitted = [item["domain"] for item in json.loads(done.stdout)]
    assert emitted == [d for d in domains() if d != BROKEN]
    (line,) = without_notes(done.stderr)
    assert line.startswith(f"spfbuild: error: {BROKEN}: ") and "nosuch.flat.test" in line


def test_a_dns_failure_alone_exits_3_and_emits_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text(broken=None))
    done = spfbuild("flatten", config, "--nameserver", "127.0.0.1:9", "--timeout", "1")
    assert (done.returncode, done.stdout) == (3, "")
    lines = done.stderr.splitlines()
    assert len(lines) == 20 and all("temperror" in line for line in lines), lines


def test_the_cron_run_flattens_the_others_and_exits_1(server: NamedServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text())
    out = tmp_path / "zones.d"
    done = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                    "-F", "zone", "-o", f"{out}/")
    assert done.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{d}.zone" for d in domains() if d != BROKEN)
    state = json.loads((tmp_path / "state.json").read_text())
    assert sorted(state["domains"]) == sorted(d for d in domains() if d != BROKEN)
    (line,) = without_notes(done.stderr)
    assert line.startswith(f"{BROKEN}: ") and "nosuch.flat.test" in line


def minimal_zone(origin: str, include: Path) -> str:
    return zone_text(origin) + f"$INCLUDE {include}\n"


@pytest.mark.parametrize("state", [False, True], ids=["plain", "cron"])
def test_output_dir_holds_one_file_per_domain_in_every_format(server: NamedServer, tmp_path: Path,
                                                              state: bool) -> None:
    config = write_config(tmp_path, config_text())
    checkzone = find_tool("named-checkzone")
    assert checkzone is not None, "named-checkzone comes with bind9-utils"
    for fmt, ext in (("zone", "zone"), ("txt", "txt"), ("json", "json"), ("octodns", "yaml")):
        out = tmp_path / f"out-{fmt}"
        out.mkdir()
        left = out / f"{BROKEN}.{ext}"
        left.write_text("last good\n", encoding="utf-8")
        extra: list[str | Path] = ["--state", tmp_path / f"state-{fmt}.json"] if state else []
        done = spfbuild("flatten", config, "--nameserver", server.nameserver, "-F", fmt, "-o", out, *extra)
        assert done.returncode == 1, done.stderr
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{d}.{ext}" for d in domains())
        assert left.read_text(encoding="utf-8") == "last good\n", "a failed domain's file is left as it was"
        for domain in domains():
            if domain == BROKEN:
                continue
            text = (out / f"{domain}.{ext}").read_text(encoding="utf-8")
            assert "v=spf1" in text and all(other not in text for other in domains() if other != domain)
            if fmt == "zone":
                wrapper = tmp_path / f"{domain}.db"
                wrapper.write_text(minimal_zone(domain, out / f"{domain}.zone"), encoding="utf-8")
                checked = subprocess.run([checkzone, domain, str(wrapper)], capture_output=True, text=True)
                assert checked.returncode == 0, checked.stdout + checked.stderr
            elif fmt == "json":
                (item,) = json.loads(text)
                assert item["domain"] == domain
            elif fmt == "octodns":
                assert yaml.safe_load(text)[""]["type"] == "TXT"


def test_output_with_a_trailing_slash_is_a_directory_made_for_the_files(server: NamedServer,
                                                                       tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text(broken=None))
    done = spfbuild("flatten", config, "--nameserver", server.nameserver, "-F", "zone", "-o", "zones.d/",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "zones.d").is_dir()
    assert len(list((tmp_path / "zones.d").iterdir())) == 20


def test_check_writes_nothing_not_even_its_lock_file(server: NamedServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, config_text(broken=None))
    before = sorted(p.name for p in tmp_path.iterdir())
    done = spfbuild("flatten", config, "--nameserver", server.nameserver, "--state", tmp_path / "state.json",
                    "--check", "-o", tmp_path / "out/")
    assert done.returncode == 2, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
