"""Publishing benchmark: `spfbuild flatten --state` publishing many domains in two zones.

    python benchmarks/bench_publish.py [--domains 300] [--quick] [--json]

A real BIND 9 `named` (tests/support/named.py) on loopback serves the fixture provider zones and
two client zones that accept TSIG-signed updates; one config holds `--domains` client domains
(half in each zone, each Mailchimp and a range of its own) with `publish:` in `defaults:` and no
zone, so every zone is found by the server's SOA. Three runs, as cron makes them: the first (every
domain published, one UPDATE per zone), an unchanged run, and a `--check` plan. Prints wall time
and domains per second of each, and the UPDATEs the server logged; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from benchlib import FIXTURE_ZONES, ROOT, machine, print_figures, run, spfbuild_command, workdir

sys.path.insert(0, str(ROOT / "tests"))

from support.named import NamedServer, find_named

ZONES = ("one.bench", "two.bench")


@dataclass(frozen=True)
class Figures:
    domains: int
    zones: int
    first_s: float
    unchanged_s: float
    check_s: float
    updates: int  # UPDATE messages the server received during the first run
    exit_codes: tuple[int, int, int]
    machine: str

    def lines(self) -> list[str]:
        return [
            f"publish {self.domains} domains in {self.zones} zones (zones found by SOA), BIND 9 on loopback",
            f"  first run (all published):  {self.first_s:.2f} s  ({self.domains / self.first_s:,.0f} domains/s), "
            f"{self.updates} UPDATE(s)",
            f"  unchanged run:              {self.unchanged_s:.2f} s  ({self.domains / self.unchanged_s:,.0f} "
            "domains/s)",
            f"  --check plan:               {self.check_s:.2f} s  ({self.domains / self.check_s:,.0f} domains/s)",
            f"  exit codes: {self.exit_codes}",
            f"  machine: {self.machine}",
        ]


def zone_text(origin: str) -> str:
    return (f"$TTL 300\n@ IN SOA ns.{origin}. hostmaster.{origin}. ( 1 3600 900 604800 300 )\n"
            f"@ IN NS ns.{origin}.\nns IN A 127.0.0.1\n")


def config_text(domains: int, key: Path) -> str:
    lines = ["defaults:", "  policy: fail", "  publish:", '    rfc2136: "rfc2136://{server}"',
             f"    tsig_key: {key}", "domains:"]
    for n in range(domains):
        lines += [f"  c{n:04}.{ZONES[n % 2]}:", "    senders:", "      - provider: mailchimp",
                  f"      - ip4: [198.51.{100 + n // 250}.{n % 250}]"]
    return "\n".join(lines) + "\n"


def measure(domains: int) -> Figures:
    if find_named() is None:
        raise SystemExit("bench_publish needs BIND 9's named (Debian package bind9)")
    zones = {p.name.removesuffix(".zone"): p.read_text() for p in FIXTURE_ZONES.glob("*.zone")}
    zones |= {zone: zone_text(zone) for zone in ZONES}
    with NamedServer(zones, updatable=ZONES) as server, workdir("spfbuild-bench-publish-") as tmp:
        key = tmp / "push.key"
        shutil.copy(server.tsig_key.path, key)
        key.chmod(0o600)
        config = tmp / "clients.yaml"
        config.write_text(config_text(domains, key).replace("{server}", f"{server.host}:{server.port}"))
        command = [*spfbuild_command(), "flatten", str(config), "--nameserver", server.nameserver,
                   "--state", str(tmp / "state.json")]
        before = len(updates(server.log_path))
        first = run(command)
        sent = len(updates(server.log_path)) - before
        unchanged = run(command)
        check = run([*command, "--check"])
        for item in (first, unchanged, check):
            if item.returncode != 0:
                raise SystemExit(f"spfbuild exited {item.returncode}:\n{item.stderr}")
        return Figures(domains, len(ZONES), first.seconds, unchanged.seconds, check.seconds, sent,
                       (first.returncode, unchanged.returncode, check.returncode), machine())


def updates(log: Path) -> set[str]:
    """The UPDATE messages named logged: it logs each record it changes, naming the client's
    connection, and each message comes over a connection of its own."""
    return set(re.findall(r"client @\S+ (\S+) \S+: updating zone", log.read_text(errors="replace")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="20 domains")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print_figures([measure(20 if args.quick else args.domains)], args.json)


if __name__ == "__main__":
    main()
