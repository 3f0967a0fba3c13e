"""A real BIND 9 ``named`` on loopback, for tests.

:class:`NamedServer` writes a throw-away ``named.conf`` into a temporary
directory, serves a set of zone files from copies in that directory, and runs
``named -g`` (foreground) on ``127.0.0.1`` with a free port.  It can also:

* accept TSIG-signed dynamic updates for chosen zones (a key made by
  ``tsig-keygen``, in the exact format real users ``include`` and pass to
  ``nsupdate -k``);
* be driven with ``rndc`` through a private control channel, as real users do
  (``rndc reload``), via :meth:`NamedServer.rndc` or :attr:`NamedServer.rndc_conf`;
* replace a zone's contents (bumping the SOA serial) and reload it;
* be stopped and started again on the same port.

Only loopback is ever touched.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataset
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.zone

__all__ = [
    "FIXTURE_ZONES",
    "ZONE_SUFFIX",
    "NamedFactory",
    "NamedServer",
    "NamedStartError",
    "TsigKey",
    "find_named",
    "find_tool",
    "load_zone_dir",
]

ZONE_SUFFIX = ".zone"
LOOPBACK = "127.0.0.1"

#: The fixture zones modelling real providers' SPF trees (one file per zone).
FIXTURE_ZONES = Path(__file__).resolve().parents[1] / "bind" / "zones"


def fixture_zones() -> dict[str, str]:
    """Every zone of ``FIXTURE_ZONES``, origin -> text: to serve beside a test's own zones."""
    return {p.name.removesuffix(".zone"): p.read_text() for p in FIXTURE_ZONES.glob("*.zone")}


#: Environment variable naming the ``named`` binary to use instead of the one
#: found on PATH / in /usr/sbin (a path that does not exist means "no named").
NAMED_ENV = "SPFBUILD_NAMED"

#: Where Debian puts ``named``, ``rndc`` and ``tsig-keygen``; often not on a
#: non-root user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")

_LOG_TAIL_LINES = 40


class NamedStartError(RuntimeError):
    """``named`` exited, failed to load a zone, or never answered."""


_PORT_TAKEN = ("address in use", "unable to listen on any configured interfaces")


class _PortInUseError(NamedStartError):
    """``named`` could not bind its port (somebody took it after we chose it)."""


def find_tool(name: str) -> str | None:
    """Return the path of a BIND tool (``named``, ``rndc``, ``tsig-keygen``...).

    Looks on ``PATH`` and then in the sbin directories, which are often missing
    from a non-root ``PATH``.
    """
    search = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN_DIRS])
    return shutil.which(name, path=search)


def find_named() -> str | None:
    """The ``named`` to run: ``$SPFBUILD_NAMED`` if set, else :func:`find_tool`."""
    override = os.environ.get(NAMED_ENV)
    if override:
        return override if os.access(override, os.X_OK) else None
    return find_tool("named")


def load_zone_dir(directory: Path | str) -> dict[str, str]:
    """Read ``<origin>.zone`` files from *directory* into ``{origin: text}``."""
    directory = Path(directory)
    zones = {
        path.name[: -len(ZONE_SUFFIX)]: path.read_text(encoding="utf-8")
        for path in sorted(directory.glob(f"*{ZONE_SUFFIX}"))
    }
    if not zones:
        raise ValueError(f"no *{ZONE_SUFFIX} files in {directory}")
    return zones


def _normalise_origin(origin: str) -> str:
    origin = origin.strip().rstrip(".").lower()
    if not origin or "/" in origin or any(c.isspace() for c in origin):
        raise ValueError(f"bad zone origin: {origin!r}")
    return origin


def _port_is_free(port: int) -> bool:
    """True if both UDP and TCP *port* can be bound on loopback right now."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                return False
    return True


def _free_port(exclude: Iterable[int] = ()) -> int:
    """A loopback port that is free for both UDP and TCP (then released)."""
    excluded = set(exclude)
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port = int(udp.getsockname()[1])
            if port in excluded:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((LOOPBACK, port))
                except OSError:
                    continue
        return port
    raise OSError("could not find a free loopback port for UDP and TCP")


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key and the ``key "..." { ... };`` file that holds it."""

    name: str
    algorithm: str
    secret: str
    path: Path

    def keyring(self) -> dict[dns.name.Name, dns.tsig.Key]:
        """A dnspython keyring holding only this key."""
        ring: dict[dns.name.Name, dns.tsig.Key] = dns.tsigkeyring.from_text(
            {self.name: (self.algorithm, self.secret)}
        )
        return ring

    @property
    def dns_name(self) -> dns.name.Name:
        return dns.name.from_text(self.name)


def _key_clause(name: str, algorithm: str, secret: str) -> str:
    """A key statement in exactly the format ``tsig-keygen`` prints."""
    return f'key "{name}" {{\n\talgorithm {algorithm};\n\tsecret "{secret}";\n}};\n'


def _generate_tsig_key(name: str, algorithm: str, path: Path) -> TsigKey:
    """Make a key with ``tsig-keygen``, or with Python if the tool is missing."""
    tool = find_tool("tsig-keygen")
    text: str | None = None
    if tool is not None:
        result = subprocess.run(
            [tool, "-a", algorithm, name], capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode == 0:
            text = result.stdout
    if text is None:
        secret_bytes = secrets.token_bytes(32)  # hmac-sha256: 256-bit key, as tsig-keygen makes
        text = _key_clause(name, algorithm, base64.b64encode(secret_bytes).decode("ascii"))
    algo_match = re.search(r"algorithm\s+([\w.-]+)\s*;", text)
    secret_match = re.search(r'secret\s+"([^"]+)"\s*;', text)
    if algo_match is None or secret_match is None:
        raise RuntimeError(f"cannot parse TSIG key:\n{text}")
    path.write_text(text, encoding="ascii")
    return TsigKey(name=name, algorithm=algo_match.group(1), secret=secret_match.group(1), path=path)


def _soa_serial_of_text(origin: str, text: str) -> int:
    zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
    soa = zone.get_rdataset(dns.name.from_text(origin), dns.rdatatype.SOA)
    if soa is None:
        raise ValueError(f"zone {origin} has no SOA record")
    return int(soa[0].serial)


def _with_serial(origin: str, text: str, serial: int) -> str:
    """*text* re-rendered by dnspython with the SOA serial set to *serial*."""
    zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
    apex = dns.name.from_text(origin)
    soa_set = zone.find_rdataset(apex, dns.rdatatype.SOA)
    new_soa = soa_set[0].replace(serial=serial)
    zone.replace_rdataset(apex, dns.rdataset.from_rdata(soa_set.ttl, new_soa))
    return f"; serial rewritten by NamedServer.replace_zone\n{zone.to_text(relativize=False)}"


class NamedServer:
    """A BIND 9 ``named`` serving fixture zones on ``127.0.0.1:<free port>``.

    *zones* is a directory of ``<origin>.zone`` files, or a mapping
    ``origin -> zone text``.  Zones whose origin is in *updatable* accept
    dynamic updates signed with :attr:`tsig_key`, or with any of the keys named in
    *other_keys* (:attr:`other_keys`)
    (``update-policy { grant <key> zonesub ANY; }``); all others refuse them.

    Use as a context manager, or call :meth:`start` and :meth:`close`.
    """

    host = LOOPBACK

    def __init__(
        self,
        zones: Path | str | Mapping[str, str],
        *,
        updatable: Iterable[str] = (),
        key_name: str = "spfbuild-update-key",
        other_keys: Iterable[str] = (),
        key_algorithm: str = "hmac-sha256",
        named_binary: str | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        zone_texts = load_zone_dir(zones) if isinstance(zones, Path | str) else dict(zones)
        self._zones: dict[str, str] = {_normalise_origin(o): t for o, t in zone_texts.items()}
        if not self._zones:
            raise ValueError("NamedServer needs at least one zone")
        self._updatable = frozenset(_normalise_origin(o) for o in updatable)
        unknown = self._updatable - self._zones.keys()
        if unknown:
            raise ValueError(f"updatable zones not served: {sorted(unknown)}")

        binary = named_binary or find_named()
        if binary is None:
            raise FileNotFoundError("BIND 9 'named' not found (Debian package: bind9)")
        self._named = binary
        self._rndc_binary = find_tool("rndc")
        self._start_timeout = start_timeout

        self.workdir = Path(tempfile.mkdtemp(prefix="spfbuild-named-"))
        self._zone_dir = self.workdir / "zones"
        self._zone_dir.mkdir()
        for origin, text in self._zones.items():
            self.zone_file(origin).write_text(text, encoding="utf-8")

        self.tsig_key: TsigKey = _generate_tsig_key(key_name, key_algorithm, self.workdir / f"{key_name}.key")
        #: More keys the updatable zones accept, by name (``other_keys``).
        self.other_keys: dict[str, TsigKey] = {
            name: _generate_tsig_key(name, key_algorithm, self.workdir / f"{name}.key") for name in other_keys
        }
        self._rndc_key_name = "spfbuild-rndc-key"
        self._rndc_secret = base64.b64encode(secrets.token_bytes(32)).decode("ascii")

        self._port: int | None = None
        self._rndc_port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        #: Seconds the last :meth:`start` took until every zone answered.
        self.startup_seconds: float | None = None

    # ------------------------------------------------------------------ facts

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("NamedServer has not been started")
        return self._port

    @property
    def rndc_port(self) -> int:
        if self._rndc_port is None:
            raise RuntimeError("NamedServer has not been started")
        return self._rndc_port

    @property
    def nameserver(self) -> str:
        """``"127.0.0.1:PORT"``: the form ``spfbuild --nameserver HOST[:PORT]`` takes."""
        return f"{self.host}:{self.port}"

    @property
    def zones(self) -> tuple[str, ...]:
        """Origins served, without trailing dots."""
        return tuple(self._zones)

    @property
    def updatable(self) -> frozenset[str]:
        return self._updatable

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def conf_path(self) -> Path:
        return self.workdir / "named.conf"

    @property
    def rndc_conf(self) -> Path:
        """An ``rndc.conf`` for this server: ``rndc -c <this> reload`` works."""
        return self.workdir / "rndc.conf"

    @property
    def log_path(self) -> Path:
        return self.workdir / "named.log"

    def zone_file(self, origin: str) -> Path:
        return self._zone_dir / f"{_normalise_origin(origin)}{ZONE_SUFFIX}"

    def journal_file(self, origin: str) -> Path:
        return self._zone_dir / f"{_normalise_origin(origin)}{ZONE_SUFFIX}.jnl"

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no named log)"
        return "\n".join(text.splitlines()[-lines:])

    # ----------------------------------------------------------- configuration

    def _named_conf(self) -> str:
        wd = self.workdir
        key = self._rndc_key_name
        parts = [
            "options {",
            f'\tdirectory "{wd}";',
            f"\tlisten-on port {self.port} {{ {LOOPBACK}; }};",
            "\tlisten-on-v6 { none; };",
            "\trecursion no;",
            f'\tpid-file "{wd}/named.pid";',
            f'\tsession-keyfile "{wd}/session.key";',
            f'\tmanaged-keys-directory "{wd}";',
            "\tdnssec-validation no;",
            "\tallow-transfer { none; };",
            "\tnotify no;",
            "};",
            "",
            _key_clause(key, "hmac-sha256", self._rndc_secret).rstrip("\n"),
            "controls {",
            f'\tinet {LOOPBACK} port {self.rndc_port} allow {{ {LOOPBACK}; }} keys {{ "{key}"; }};',
            "};",
            "",
            f'include "{self.tsig_key.path}";',
            *(f'include "{key.path}";' for key in self.other_keys.values()),
            "",
        ]
        for origin in self._zones:
            parts.append(f'zone "{origin}" {{')
            parts.append("\ttype primary;")
            parts.append(f'\tfile "{self.zone_file(origin)}";')
            if origin in self._updatable:
                parts.append(f'\tjournal "{self.journal_file(origin)}";')
                keys = (self.tsig_key, *self.other_keys.values())
                grants = "".join(f' grant "{key.name}" zonesub ANY;' for key in keys)
                parts.append(f"\tupdate-policy {{{grants} }};")
            parts.append("};")
        return "\n".join(parts) + "\n"

    def _rndc_conf_text(self) -> str:
        key = self._rndc_key_name
        return (
            _key_clause(key, "hmac-sha256", self._rndc_secret)
            + "options {\n"
            + f'\tdefault-key "{key}";\n'
            + f"\tdefault-server {LOOPBACK};\n"
            + f"\tdefault-port {self.rndc_port};\n"
            + "};\n"
        )

    # -------------------------------------------------------------- lifecycle

    def __enter__(self) -> NamedServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start ``named`` and wait until every zone answers its SOA.

        After :meth:`stop`, the same port is reused when it is still free.
        """
        if self.running:
            return
        last_error: NamedStartError | None = None
        for _attempt in range(3):
            if self._port is None or not _port_is_free(self._port):
                self._port = _free_port()
            if self._rndc_port is None or not _port_is_free(self._rndc_port):
                self._rndc_port = _free_port(exclude={self._port})
            try:
                self._launch()
                return
            except _PortInUseError as error:
                last_error = error
                self._terminate()
                self._port = self._rndc_port = None
        assert last_error is not None
        raise last_error

    def _launch(self) -> None:
        self.conf_path.write_text(self._named_conf(), encoding="utf-8")
        self.rndc_conf.write_text(self._rndc_conf_text(), encoding="utf-8")
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            # -g: foreground, log to stderr; -4: IPv4 only.  No -u: not needed
            # (named keeps the invoking user, root or not).
            self._proc = subprocess.Popen(
                [self._named, "-g", "-4", "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        self._wait_until_ready(began + self._start_timeout)
        self.startup_seconds = time.monotonic() - began

    def _new_log(self) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _wait_until_ready(self, deadline: float) -> None:
        # named logs "running" once its listeners are up and every zone has
        # been loaded; only then is it worth sending queries (an early UDP
        # query would just be lost and cost a whole timeout).
        pending = set(self._zones)
        while True:
            assert self._proc is not None
            code = self._proc.poll()
            log = self._new_log()
            # Another process took the port between choosing it and named binding it: named says
            # so in one of these ways, and exits; a fresh port is tried.
            if any(sign in log for sign in _PORT_TAKEN):
                raise _PortInUseError(f"named could not bind port {self.port}:\n{self.log_tail()}")
            if code is not None:
                raise NamedStartError(f"named exited with status {code}:\n{self.log_tail()}")
            if "not loaded due to errors" in log:
                self._terminate()
                raise NamedStartError(f"named failed to load a zone:\n{self.log_tail()}")
            if re.search(r"\brunning$", log, re.MULTILINE):
                for origin in sorted(pending):
                    if self._soa_serial(origin, timeout=0.5) is not None:
                        pending.discard(origin)
                if not pending:
                    return
            if time.monotonic() > deadline:
                self._terminate()
                raise NamedStartError(
                    f"named did not answer SOA for {sorted(pending)} "
                    f"within {self._start_timeout:g}s:\n{self.log_tail()}"
                )
            time.sleep(0.01)

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def stop(self) -> None:
        """Stop ``named`` (SIGTERM, then SIGKILL after 5 s).  Files are kept."""
        self._terminate()

    def close(self) -> None:
        """Stop ``named`` and delete the temporary directory."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --------------------------------------------------------------- control

    def rndc(self, *args: str, timeout: float = 10.0) -> str:
        """Run ``rndc -c <rndc_conf> ARGS...`` against this server; return stdout."""
        if self._rndc_binary is None:
            raise FileNotFoundError("rndc not found (Debian package: bind9-utils)")
        result = subprocess.run(
            [self._rndc_binary, "-c", str(self.rndc_conf), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"rndc {' '.join(args)} failed ({result.returncode}): "
                f"{result.stdout}{result.stderr}\n{self.log_tail()}"
            )
        return result.stdout

    def reload(self, origin: str | None = None) -> None:
        """Reload every zone (or one) from its file: ``rndc reload``; SIGHUP without rndc."""
        if not self.running:
            raise RuntimeError("named is not running")
        if self._rndc_binary is not None:
            self.rndc("reload", *([_normalise_origin(origin)] if origin else []))
        else:
            assert self._proc is not None
            self._proc.send_signal(signal.SIGHUP)

    def _wait_for_dump(self, origin: str, served: int | None) -> None:
        """`rndc freeze` returns before named has finished writing the zone file; writing our own
        file before then would be overwritten. Wait until the file holds the served serial."""
        if served is None:
            return
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            try:
                if _soa_serial_of_text(origin, self.zone_file(origin).read_text("utf-8")) == served:
                    time.sleep(0.05)  # let the rename that finishes the dump settle
                    return
            except Exception:  # a file named is still writing may not parse yet
                pass
            time.sleep(0.02)
        raise RuntimeError(f"zone {origin} was not written out after rndc freeze:\n{self.log_tail()}")

    def replace_zone(self, origin: str, text: str, *, bump_serial: bool = True) -> int:
        """Rewrite *origin*'s zone file with *text*, reload it, and wait for it.

        If *bump_serial* and the SOA serial in *text* is not above the serial
        being served (or on disk), the serial is set to that serial plus one.
        Updatable zones are frozen, rewritten, stripped of their journal and
        thawed.  Returns the serial now served.
        """
        origin = _normalise_origin(origin)
        if origin not in self._zones:
            raise KeyError(f"zone {origin} is not served by this server")
        new_serial = _soa_serial_of_text(origin, text)
        if bump_serial:
            current = self._soa_serial(origin) if self.running else None
            if current is None:
                current = _soa_serial_of_text(origin, self.zone_file(origin).read_text("utf-8"))
            if new_serial <= current:
                new_serial = (current + 1) % 2**32
                text = _with_serial(origin, text, new_serial)

        dynamic = origin in self._updatable and self.running and self._rndc_binary is not None
        if dynamic:
            served = self._soa_serial(origin)
            self.rndc("freeze", origin)
            self._wait_for_dump(origin, served)
            if bump_serial:
                # Freezing writes out the serial dynamic updates reached, which may be newer than
                # the one read before (an update still settling): stay above it.
                dumped = _soa_serial_of_text(origin, self.zone_file(origin).read_text("utf-8"))
                if new_serial <= dumped:
                    new_serial = (dumped + 1) % 2**32
                    text = _with_serial(origin, text, new_serial)
        self._write_zone_file(origin, text)
        if dynamic:
            self.journal_file(origin).unlink(missing_ok=True)
            self.rndc("thaw", origin)
        elif self.running:
            self.reload(origin)
        self._zones[origin] = text

        if self.running:
            deadline = time.monotonic() + self._start_timeout
            while self._soa_serial(origin) != new_serial:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"zone {origin} did not start serving serial {new_serial}:\n{self.log_tail()}"
                    )
                time.sleep(0.02)
        return new_serial

    def _write_zone_file(self, origin: str, text: str) -> None:
        path = self.zone_file(origin)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    # --------------------------------------------------------------- queries

    def query(
        self, name: str, rdtype: str = "TXT", *, tcp: bool = False, timeout: float = 2.0
    ) -> dns.message.Message:
        """Send one query to this server and return the response."""
        request = dns.message.make_query(name, rdtype)
        if tcp:
            return dns.query.tcp(request, self.host, timeout=timeout, port=self.port)
        return dns.query.udp(request, self.host, timeout=timeout, port=self.port)

    def _soa_serial(self, origin: str, timeout: float = 1.0) -> int | None:
        """Serial served for *origin*, or None if it does not answer authoritatively."""
        with contextlib.suppress(dns.exception.DNSException, OSError):
            response = self.query(origin, "SOA", timeout=timeout)
            if response.rcode() == dns.rcode.NOERROR:
                for rrset in response.answer:
                    if rrset.rdtype == dns.rdatatype.SOA:
                        return int(rrset[0].serial)
        return None


#: ``named_factory(zones, updatable=(), **NamedServer kwargs) -> NamedServer`` (conftest).
NamedFactory = Callable[..., NamedServer]
