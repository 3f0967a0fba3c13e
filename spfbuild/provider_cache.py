"""The shipped provider files, parsed once and kept the way Python keeps bytecode.

Parsing the shipped catalogue's YAML is most of what loading it costs, on every command. What
the files' YAML says is kept as JSON in the package's `__pycache__`, beside the bytecode of the
modules that read it, and used while the directory, each file's name, size and modification
time, those of the modules that read them and the YAML library's version are what it was made
from; anything else (a file edited, added or removed, an unreadable or damaged copy) parses the
files again. The kept data goes through the same checks as the files' own, and it is kept only
when it gives exactly the providers the files give (JSON has no dates, for one: a date is kept
as the text the checks make of it). Like bytecode, the copy is written only when Python writes
bytecode, atomically, and a place that cannot be written is no error. Users' own provider
directories are parsed every time (nothing is written beside their files).
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from spfbuild.errors import SPFBuildError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from spfbuild.provider import Provider

_PACKAGE = Path(__file__).resolve().parent
_READERS = ("catalogue.py", "provider.py", "provider_schema.py")  # the code whose reading is kept

Parse = Callable[[Path], "dict[Any, Any]"]
Check = Callable[[Path, "dict[Any, Any]"], "Provider"]


def cache_file() -> Path | None:
    """Where the copy of the shipped providers is kept (None: this Python keeps no bytecode)."""
    tag = sys.implementation.cache_tag
    return None if tag is None else _PACKAGE / "__pycache__" / f"providers.{tag}.json"


def read_cached(folder: Path, files: Sequence[Path], parse: Parse, check: Check,
                where: Path | None = None) -> list[Provider]:
    """`check(path, parse(path))` for each file of `folder`, with the parsed data from the copy
    kept at `where` (default `cache_file()`) when it was made from these very files."""
    where = where or cache_file()
    try:
        stamp = _stamp(folder, files)
    except OSError:
        where = None  # a file vanished while listing: parsing it reports the problem
    if where is not None:
        kept = _load(where, stamp, len(files))
        if kept is not None:
            return [check(path, data) for path, data in zip(files, kept, strict=True)]
    parsed = [parse(path) for path in files]
    providers = [check(path, data) for path, data in zip(files, parsed, strict=True)]
    if where is not None and not sys.dont_write_bytecode:
        _store(where, stamp, files, parsed, providers, check)
    return providers


def _stamp(folder: Path, files: Sequence[Path]) -> list[Any]:
    def facts(path: Path) -> list[Any]:
        status = path.stat()
        return [path.name, status.st_size, status.st_mtime_ns]

    return [str(folder.resolve()), yaml.__version__, [facts(_PACKAGE / name) for name in _READERS],
            [facts(path) for path in files]]


def _load(where: Path, stamp: list[Any], count: int) -> list[dict[Any, Any]] | None:
    try:
        kept = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):  # missing, unreadable or damaged: parse the files
        return None
    if not isinstance(kept, dict) or kept.get("stamp") != stamp:
        return None
    data = kept.get("data")
    if not isinstance(data, list) or len(data) != count or not all(isinstance(d, dict) for d in data):
        return None
    return data


def _store(where: Path, stamp: list[Any], files: Sequence[Path], parsed: list[dict[Any, Any]],
           providers: list[Provider], check: Check) -> None:
    try:
        text = json.dumps({"stamp": stamp, "data": parsed}, default=_as_text)
    except (TypeError, ValueError):
        return  # something JSON cannot hold: parse the files every time
    # Kept only if the checks make exactly the same providers of the kept data as of the files'.
    try:
        again = [check(path, data) for path, data in zip(files, json.loads(text)["data"], strict=True)]
    except SPFBuildError:  # the checks refuse the kept data: keep nothing
        return
    if again != providers:
        return
    import tempfile  # only when writing: most runs only read

    try:
        where.parent.mkdir(exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=where.parent, prefix=f".{where.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temporary, 0o644)  # readable by everyone, like bytecode (mkstemp makes it private)
            os.replace(temporary, where)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass  # a read-only installation: the files are parsed every time, as without the copy


def _as_text(value: object) -> str:
    """A date as the text the checks make of it; anything else JSON cannot hold is refused."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not kept")
