"""The benchmark scripts run on a tiny workload (figures are printed, never judged here), and the
latency DNS server they share answers as an authoritative server does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

from benchlib import FIXTURE_ZONES, DNSServer  # type: ignore[import-not-found]  # noqa: E402


def script(name: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_dns_server_answers_late_logs_every_query_and_falls_back_to_tcp(tmp_path: Path) -> None:
    big_zone = tmp_path / "big.test.zone"
    big_zone.write_text("$ORIGIN big.test.\n$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n@ IN NS ns\nns IN A 127.0.0.1\n"
                        + "".join(f'txt IN TXT "{str(i) * 200}"\n' for i in range(3)))
    with DNSServer([FIXTURE_ZONES], latency_ms=50, zone_files=[big_zone]) as server:
        started = time.monotonic()
        response = dns.query.udp(dns.message.make_query("_spf.google.com", "TXT"), "127.0.0.1", 5, server.port)
        assert time.monotonic() - started >= 0.05
        assert b"include:_netblocks.google.com" in response.answer[0][0].strings[0]
        missing = dns.query.udp(dns.message.make_query("nope.google.com", "TXT"), "127.0.0.1", 5, server.port)
        assert missing.rcode() == dns.rcode.NXDOMAIN and missing.authority
        outside = dns.query.udp(dns.message.make_query("example.org", "A"), "127.0.0.1", 5, server.port)
        assert outside.rcode() == dns.rcode.REFUSED
        big = dns.query.udp(dns.message.make_query("txt.big.test", "TXT"), "127.0.0.1", 5, server.port)
        assert big.flags & dns.flags.TC and not big.answer  # over 512 octets without EDNS
        full = dns.query.tcp(dns.message.make_query("txt.big.test", "TXT"), "127.0.0.1", 5, server.port)
        assert len(full.answer[0]) == 3
        assert [(q.transport, q.name, q.rdtype) for q in server.queries()] == [
            ("udp", "_spf.google.com", "TXT"), ("udp", "nope.google.com", "TXT"), ("udp", "example.org", "A"),
            ("udp", "txt.big.test", "TXT"), ("tcp", "txt.big.test", "TXT"),
        ]


def test_flatten_benchmark_asks_each_question_the_tree_needs_once() -> None:
    (figures,) = json.loads(script("bench_flatten.py", "--runs", "1", "--latency", "5", "--json"))
    assert figures["queries_udp"] == figures["distinct_pairs"] == figures["tree_pairs"] > 15
    assert figures["wall_zero_latency_s"] > 0 and figures["cpu_zero_latency_s"] > 0
    assert figures["extra_pairs"] == [] and figures["repeated"] == {}
    assert figures["depth"] == 2


# Run as `python -c PROBE flatten ...`: a flatten that prints the dnspython modules it has loaded
# when its first question goes out.
PROBE = """
import sys
import spfbuild.dns.transport as transport
real, seen = transport._udp, []
async def udp(*args):
    if not seen:
        seen.append(sorted(m for m in sys.modules if m == "dns" or m.startswith("dns.")))
    return await real(*args)
transport._udp = udp
import atexit
atexit.register(lambda: print("LOADED", *seen[0]))
from spfbuild.cli import main
sys.argv = ["spfbuild", *sys.argv[1:]]
main()
"""


def test_the_floor_loads_the_dnspython_modules_a_flatten_has_loaded_at_its_first_question(tmp_path: Path) -> None:
    import bench_capacity  # type: ignore[import-not-found]

    config = tmp_path / "one.yaml"
    config.write_text("domain: floor.test\npolicy: fail\nsenders:\n  - include: _spf.google.com\n")
    with DNSServer([FIXTURE_ZONES], latency_ms=0) as server:
        done = subprocess.run([sys.executable, "-c", PROBE, "flatten", str(config), "--nameserver", server.nameserver],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("LOADED")]
    floor = subprocess.run([sys.executable, "-c", f"{bench_capacity.FIRST_QUESTION_IMPORTS}; import sys; "
                            "print(*sorted(m for m in sys.modules if m == 'dns' or m.startswith('dns.')))"],
                           capture_output=True, text=True, check=True)
    assert set(line.split()[1:]) == set(floor.stdout.split())


def test_check_benchmark_reports_every_generated_domain() -> None:
    figures = json.loads(script("bench_check.py", "--domains", "60", "--latency", "5", "--json"))
    assert figures["reported"] == 60 and sum(figures["kinds"].values()) == 60
    assert figures["with_errors"] > 0 and figures["peak_mb"] > 0


def test_check_benchmark_compares_the_octet_reader_with_dnspython_on_the_same_reports() -> None:
    check, readers = json.loads(script("bench_check.py", "--domains", "40", "--latency", "0", "--compare-reader",
                                       "--json"))
    assert check["reported"] == 40
    assert readers["same_output"] is True and readers["runs"] == 3
    assert readers["octets_cpu_s"] > 0 and readers["dnspython_cpu_s"] > 0


def test_diff_benchmark_finds_the_drifted_domains_asking_each_question_once() -> None:
    found = json.loads(script("bench_diff.py", "--domains", "20", "--latency", "5", "--no-compiled", "--json"))
    figures = found["clients"]
    assert (figures["in_sync"], figures["differs"], figures["other"]) == (18, 2, 0)
    assert figures["queries"] == figures["distinct"] > 20 and found["compiled"] is None


def test_startup_benchmark_times_each_command() -> None:
    figures = json.loads(script("bench_startup.py", "--runs", "1", "--json"))
    commands = ("lint", "render", "flatten", "check", "eval", "rules", "providers")
    assert set(figures["median_s"]) == {
        "python -c pass", "spfbuild --help", *(f"spfbuild {name} --help" for name in commands),
        "spfbuild lint RECORD", "spfbuild render SAMPLE", "spfbuild rules", "spfbuild providers",
    }
    assert all(seconds > 0 for seconds in figures["median_s"].values())


def test_run_all_prints_the_performance_section() -> None:
    out = script("run_all.py", "--runs", "1", "--domains", "30", "--startup-runs", "1", "--latency", "5",
                 "--no-peer", "--markdown")
    assert out.startswith("## Performance") and "python benchmarks/run_all.py --markdown" in out


def test_peer_benchmark_when_the_peer_is_installed() -> None:
    import bench_peer  # type: ignore[import-not-found]

    python = bench_peer.DEFAULT_VENV / "bin" / "python"
    if not python.exists() or subprocess.run([str(python), "-c", "import sender_policy_flattener"]).returncode:
        message = f"sender-policy-flattener is not installed in {bench_peer.DEFAULT_VENV} (run_all.py installs it)"
        if os.environ.get("CI") == "true":  # .ci/run installs it: under CI its absence is a failure
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    (figures,) = json.loads(script("bench_peer.py", "--quick", "--latency", "5", "--json"))
    assert figures["peer_queries"] > 0 and figures["spfbuild_queries"] > 0
