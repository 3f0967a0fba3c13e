"""An include cycle reached from two branches, served by a real BIND 9: `flatten` and `check`
end at once with the cycle named (it once made flatten wait forever, whatever --timeout)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.named import NamedFactory

HEAD = "$TTL 300\n@ SOA ns.{0}. hostmaster.{0}. 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n"
CONFIG = "domain: flat.example.com\npolicy: fail\nsenders:\n  - include: example.com\n"


def zones(closing: str) -> dict[str, str]:
    return {
        "example.com": HEAD.format("example.com") + '@ TXT "v=spf1 include:b.example include:c.example -all"\n',
        "example": HEAD.format("example") + f'b TXT "v=spf1 include:c.example"\nc TXT "{closing}"\n',
    }


def spfbuild(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "spfbuild", *map(str, args)], capture_output=True, text=True,
                          timeout=60)
    return done, time.monotonic() - started


@pytest.mark.parametrize("closing", ["v=spf1 include:b.example", "v=spf1 redirect=b.example"])
def test_flatten_and_check_name_the_cycle_at_once(closing: str, named_factory: NamedFactory, tmp_path: Path) -> None:
    server = named_factory(zones(closing))
    config = tmp_path / "senders.yaml"
    config.write_text(CONFIG, encoding="utf-8")

    flat, flat_seconds = spfbuild("flatten", config, "--nameserver", server.nameserver, "--timeout", "2")
    assert flat.returncode == 1 and flat.stdout == ""
    assert flat.stderr == "spfbuild: error: flat.example.com: include loop: b.example -> c.example -> b.example\n"
    assert flat_seconds < 5, flat_seconds

    check, check_seconds = spfbuild("check", "example.com", "--json", "--nameserver", server.nameserver)
    assert check.returncode == 1, check.stderr
    (report,) = json.loads(check.stdout)
    loops = [f["message"] for f in report["findings"] if f["name"] == "include-loop"]
    assert loops and all("b.example" in m and "c.example" in m for m in loops), loops
    assert check_seconds < 5, check_seconds
