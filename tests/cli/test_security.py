"""Security properties: output escaping that readers parse back exactly, YAML that is never
constructed into objects, TSIG key file permissions, no shell and no evaluation of input
anywhere in the package, and output written only where the user asked."""

from __future__ import annotations

import ast
import importlib
import os
import stat
import subprocess
import sys
from pathlib import Path
from unittest import mock

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from octodns.provider import yaml as octodns_yaml
from octodns.zone import Zone

import spfbuild
from spfbuild.catalogue import load_catalogue
from spfbuild.config import ConfigError, parse_config
from spfbuild.emit import RecordSet, TxtRecord, render_json, render_octodns, render_txt, render_zone
from spfbuild.files import write_atomic
from spfbuild.provider import CatalogueError
from spfbuild.pushserver import load_tsig_key
from spfbuild.txt import octets, split_strings

PACKAGE = Path(spfbuild.__file__).parent
DOMAIN = "example.com"


def spfbuild_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfbuild", *map(str, args)], capture_output=True, text=True,
                          timeout=60, cwd=cwd, check=False)


# ---------------------------------------------------------------- zone and octoDNS escaping

# Every octet value, as DNS may hand spfbuild (undecodable octets are kept as surrogates).
any_value = st.binary(max_size=600).map(lambda b: b.decode("utf-8", "surrogateescape"))
tricky_value = st.lists(st.sampled_from(['"', "\\", ";", " ", "\t", "\n", "\r", "\x00", "\x7f", "\x1b", "'", "é", "€",
                                         "\u200b", "\U0001f600", "\udcff", "a", "v=spf1 ", "%{d}"]), max_size=80).map("".join)


def zone_value(text: str, name: str = DOMAIN) -> bytes:
    zone = dns.zone.from_text(text, origin=f"{DOMAIN}.", relativize=False, check_origin=False)
    (rdata,) = zone.find_rdataset(f"{name}.", "TXT")
    assert all(len(s) <= 255 for s in rdata.strings)
    return b"".join(rdata.strings)


@given(st.one_of(any_value, tricky_value))
@settings()
def test_zone_output_reads_back_as_the_same_octets(value: str) -> None:
    record_set = RecordSet(DOMAIN, (TxtRecord(DOMAIN, value, 300), TxtRecord(f"_spf1.{DOMAIN}", value, 300)))
    text = render_zone([record_set])
    assert text.isascii() and text.count("\n") == 3  # one line per record: nothing can break out
    assert zone_value(text) == octets(value)
    assert zone_value(text, f"_spf1.{DOMAIN}") == octets(value)


@given(st.one_of(any_value, tricky_value))
@settings()
def test_txt_output_is_master_file_rdata_for_the_same_octets(value: str) -> None:
    text = render_txt([RecordSet(DOMAIN, (TxtRecord(DOMAIN, value, 300),))])
    assert text.isascii() and text.endswith("\n") and text.count("\n") == 1
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text)
    assert b"".join(rdata.strings) == octets(value)  # type: ignore[attr-defined]


@given(st.one_of(any_value, tricky_value))
@settings()
def test_json_output_carries_the_value_and_its_strings(value: str) -> None:
    import json

    (item,) = json.loads(render_json([RecordSet(DOMAIN, (TxtRecord(DOMAIN, value, 300),))]))
    assert item["record"] == value
    assert "".join(item["strings"]) == value and item["strings"] == list(split_strings(value))


def octodns_values(tmp: Path, text: str) -> list[str]:
    (tmp / f"{DOMAIN}.yaml").write_text(text, encoding="utf-8")
    zone = Zone(f"{DOMAIN}.", [])
    octodns_yaml.YamlProvider("spfbuild", str(tmp), enforce_order=True, escaped_semicolons=True).populate(zone)
    (record,) = zone.records
    assert record._type == "TXT"
    return [value.to_raw_text() for value in record.values]


# octoDNS itself cannot carry: non-ASCII values (its validator refuses them), values starting with
# '"' or holding '" "' (read as presentation chunks), and a literal backslash before ';' (its own
# escape). SPF records are printable ASCII, and `"` can only sit inside one term.
octodns_value = st.text(st.characters(max_codepoint=0x7F), max_size=300).filter(
    lambda v: not v.startswith('"') and '" "' not in v and "\\;" not in v
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("octodns")


@given(value=st.one_of(octodns_value, st.sampled_from(['a "b" c', "back\\slash", "semi;colon", "nl\nx", "cr\rx",
                                                      "tab\tx", "nul\x00x", "esc\x1b[31m", "del\x7f", "it's", ""])))
@settings()
def test_octodns_output_reads_back_as_the_same_text(scratch: Path, value: str) -> None:
    text = render_octodns(RecordSet(DOMAIN, (TxtRecord(DOMAIN, value or "v=spf1", 300),)))
    assert text.isascii()
    assert octodns_values(scratch, text) == [value or "v=spf1"]


def test_octodns_refuses_non_ascii_as_a_validation_error_not_broken_yaml(scratch: Path) -> None:
    from octodns.record.exception import ValidationError

    for value in ("caf\u00e9", "\udcff", "a\u2028b"):
        text = render_octodns(RecordSet(DOMAIN, (TxtRecord(DOMAIN, value, 300),)))
        assert text.isascii() and yaml.safe_load(text)[""]["value"] == value.replace(";", "\\;")
        with pytest.raises(ValidationError, match="non ASCII"):
            octodns_values(scratch, text)


def test_quotes_backslashes_and_semicolons_of_a_real_record_survive_every_format(tmp_path: Path) -> None:
    # An unknown modifier may hold '"' and '\' (RFC 7208 macro-string); `existing:` keeps it.
    config = tmp_path / "q.yaml"
    config.write_text("domain: example.com\nexisting: 'v=spf1 mx x-note=a\"b\\c;d -all'\n"
                      "senders:\n  - ip4: [198.51.100.0/24]\n", encoding="utf-8")
    expected = 'v=spf1 mx ip4:198.51.100.0/24 -all x-note=a"b\\c;d'
    zone = spfbuild_cli("render", "-q", config, "--format", "zone")
    assert zone.returncode == 0, zone.stderr
    assert zone_value(zone.stdout) == expected.encode()
    octodns = spfbuild_cli("render", "-q", config, "--format", "octodns")
    assert octodns.returncode == 0, octodns.stderr
    assert octodns_values(tmp_path, octodns.stdout) == [expected]


# ---------------------------------------------------------------- YAML is only ever loaded safely

CATALOGUE = load_catalogue()


@pytest.mark.parametrize("tagged", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/object:__main__.Thing {{x: 1}}",
    "!custom example.com",
])
def test_a_python_tag_anywhere_is_refused_and_never_constructed(tagged: str, tmp_path: Path) -> None:
    marker = tmp_path / "constructed"
    value = tagged.format(marker=marker)
    for text in (f"domain: {value}\npolicy: fail\nsenders: [{{mx: true}}]\n",
                 f"domain: example.com\npolicy: fail\nsenders:\n  - mx: true\n    comment: {value}\n",
                 f"domain: example.com\npolicy: fail\nsenders: [{{mx: true}}]\nflatten: {value}\n"):
        with pytest.raises(ConfigError, match=r"^senders\.yaml:\d+:\d+: unsupported YAML tag '"):
            parse_config(text, "senders.yaml", CATALOGUE)
    assert not marker.exists()


def test_the_cli_refuses_a_python_tag_in_one_line(tmp_path: Path) -> None:
    marker = tmp_path / "constructed"
    config = tmp_path / "evil.yaml"
    config.write_text(f"domain: !!python/object/apply:os.system ['touch {marker}']\npolicy: fail\n", encoding="utf-8")
    done = spfbuild_cli("render", config)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"spfbuild: error: {config}:1:9: unsupported YAML tag "
                           "'tag:yaml.org,2002:python/object/apply:os.system'\n")
    assert not marker.exists()


def test_provider_files_are_loaded_safely_too(tmp_path: Path) -> None:
    marker = tmp_path / "constructed"
    (tmp_path / "evil.yaml").write_text(f"id: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    with pytest.raises(CatalogueError):
        load_catalogue(tmp_path)
    assert not marker.exists()


# ---------------------------------------------------------------- no shell, no evaluation of input

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
FORBIDDEN_ATTRIBUTES = {
    ("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "execl"), ("os", "execlp"),
    ("os", "spawnv"), ("os", "spawnl"), ("os", "posix_spawn"), ("os", "fork"), ("yaml", "unsafe_load"),
    ("yaml", "full_load"), ("yaml", "load_all"), ("yaml", "unsafe_load_all"), ("pickle", "loads"), ("pickle", "load"),
    ("marshal", "loads"),
}
FORBIDDEN_MODULES = {"subprocess", "pickle", "marshal", "shelve", "pty", "commands"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    return ".".join(("spfbuild", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_runs_a_shell_or_evaluates_input(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    problems: list[str] = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            problems += [f"{where}: imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                problems.append(f"{where}: calls {func.id}()")
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                pair = (func.value.id, func.attr)
                if pair in FORBIDDEN_ATTRIBUTES:
                    problems.append(f"{where}: calls {'.'.join(pair)}()")
                if pair == ("yaml", "load"):
                    problems += _unsafe_yaml_load(path, node, where)
            problems += [f"{where}: shell=True" for k in node.keywords
                         if k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)]
    assert problems == []


def _unsafe_yaml_load(path: Path, call: ast.Call, where: str) -> list[str]:
    """`yaml.load(..., Loader=X)` is allowed only when X is, at run time, a safe loader class."""
    loader = next((k.value for k in call.keywords if k.arg == "Loader"), call.args[1] if len(call.args) > 1 else None)
    if loader is None:
        return [f"{where}: yaml.load() without a Loader"]
    module = importlib.import_module(_module_name(path))
    try:
        value = eval(compile(ast.Expression(loader), str(path), "eval"), vars(module))  # the package's own code
    except Exception as exc:
        return [f"{where}: cannot tell which Loader yaml.load() uses: {exc}"]
    safe = tuple(c for c in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", None)) if c is not None)
    constructors = getattr(value, "yaml_constructors", {})
    if not (isinstance(value, type) and issubclass(value, safe)) or any(
        tag and "python" in tag for tag in constructors
    ):
        return [f"{where}: yaml.load() with {getattr(value, '__name__', value)!r}, not a safe loader"]
    return []


# ---------------------------------------------------------------- TSIG key files

KEY = 'key "spfbuild-push" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNDU2Nzg=";\n};\n'


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o400, False), (0o640, True), (0o604, True),
                                              (0o644, True), (0o666, True)])
def test_a_tsig_key_file_others_can_read_gives_a_warning(mode: int, warned: bool, tmp_path: Path) -> None:
    path = tmp_path / "push.key"
    path.write_text(KEY, encoding="utf-8")
    path.chmod(mode)
    key, warnings = load_tsig_key(path)
    assert (key.name, key.algorithm) == ("spfbuild-push", "hmac-sha256")
    if warned:
        assert warnings == [f"{path} is readable by other users; `chmod 600 {path}` keeps the TSIG secret secret"]
    else:
        assert warnings == []


def test_the_cli_prints_the_tsig_warning(tmp_path: Path) -> None:
    key = tmp_path / "push.key"
    key.write_text(KEY, encoding="utf-8")
    key.chmod(0o644)
    config = tmp_path / "senders.yaml"
    config.write_text("domain: example.com\npolicy: fail\nsenders:\n  - ip4: [198.51.100.0/24]\n", encoding="utf-8")
    done = spfbuild_cli("flatten", config, "--state", tmp_path / "state.json", "--push", "rfc2136://127.0.0.1:9/example.com",
                        "--tsig-key", key, "--nameserver", "127.0.0.1:9", "--timeout", "0.5")
    warning = f"spfbuild: warning: {key} is readable by other users; `chmod 600 {key}` keeps the TSIG secret secret"
    assert warning in done.stderr.splitlines()
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- outputs go only where asked


def listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


CONFIG = "domain: example.com\npolicy: fail\nsenders:\n  - ip4: [198.51.100.0/24]\n"


def test_render_writes_the_output_file_and_nothing_else(tmp_path: Path) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    (work / "senders.yaml").write_text(CONFIG, encoding="utf-8")
    (work / "keep.txt").write_text("mine\n", encoding="utf-8")
    done = spfbuild_cli("render", "senders.yaml", "--output", elsewhere / "spf.txt", cwd=work)
    assert done.returncode == 0, done.stderr
    assert listing(elsewhere) == {"spf.txt": b'"v=spf1 ip4:198.51.100.0/24 -all"\n'}
    assert listing(work) == {"keep.txt": b"mine\n", "senders.yaml": CONFIG.encode()}


def test_a_failed_render_leaves_the_old_output_and_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("domain: example.com\npolicy: pass\nsenders: [{mx: true}]\n", encoding="utf-8")
    (tmp_path / "spf.txt").write_text("old\n", encoding="utf-8")
    before = listing(tmp_path)
    done = spfbuild_cli("render", tmp_path / "bad.yaml", "--output", tmp_path / "spf.txt")
    assert done.returncode == 1
    assert listing(tmp_path) == before


def test_an_output_symlink_is_replaced_not_written_through(tmp_path: Path) -> None:
    (tmp_path / "senders.yaml").write_text(CONFIG, encoding="utf-8")
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours\n", encoding="utf-8")
    (tmp_path / "spf.txt").symlink_to(victim)
    done = spfbuild_cli("render", tmp_path / "senders.yaml", "--output", tmp_path / "spf.txt")
    assert done.returncode == 0, done.stderr
    assert victim.read_text(encoding="utf-8") == "not yours\n"
    assert not (tmp_path / "spf.txt").is_symlink()
    assert (tmp_path / "spf.txt").read_text(encoding="utf-8") == '"v=spf1 ip4:198.51.100.0/24 -all"\n'


def test_octodns_directory_output_holds_only_the_domain_files(tmp_path: Path) -> None:
    config = tmp_path / "msp.yaml"
    config.write_text("defaults:\n  policy: fail\n  senders: [{ip4: [198.51.100.0/24]}]\n"
                      "domains:\n  a.example:\n  b.example:\n", encoding="utf-8")
    out = tmp_path / "zones"
    done = spfbuild_cli("render", config, "--format", "octodns", "--output", out)
    assert done.returncode == 0, done.stderr
    assert sorted(listing(out)) == ["a.example.yaml", "b.example.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["msp.yaml", "zones"]


def test_write_atomic_leaves_no_temporary_file_when_it_fails(tmp_path: Path) -> None:
    target = tmp_path / "spf.txt"
    target.write_text("old\n", encoding="utf-8")
    with mock.patch("spfbuild.files.os.fsync", side_effect=OSError(5, "Input/output error")), \
            pytest.raises(OSError):
        write_atomic(target, "new\n")
    assert listing(tmp_path) == {"spf.txt": b"old\n"}
    (tmp_path / "adir").mkdir()
    with pytest.raises(OSError):
        write_atomic(tmp_path / "adir", "new\n")  # cannot replace a directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "spf.txt"]
    assert list((tmp_path / "adir").iterdir()) == []


def test_write_atomic_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "spf.txt"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o600)
    write_atomic(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text(encoding="utf-8") == "new\n"
    fresh = tmp_path / "fresh.txt"
    umask = os.umask(0o027)
    try:
        write_atomic(fresh, "x\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640
