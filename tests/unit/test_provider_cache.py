"""The shipped provider files are parsed once and kept like bytecode: the kept copy gives exactly
the providers the files give, and is used only while it was made from these very files."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from spfbuild.catalogue import default_directory, load_catalogue
from spfbuild.provider import Provider
from spfbuild.provider_cache import read_cached
from spfbuild.provider_schema import checked_provider, read_provider_data, read_provider_file

SOME = ("google.yaml", "mailchimp.yaml", "sendgrid.yaml")


@pytest.fixture(autouse=True)
def writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    """As users run it: Python writes bytecode (the test environment may say otherwise)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A few shipped provider files in a directory of their own."""
    out = tmp_path / "providers"
    out.mkdir()
    for name in SOME:
        shutil.copy2(default_directory() / name, out / name)
    return out


def files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def never(path: Path) -> dict[Any, Any]:
    raise AssertionError(f"{path} was parsed again")


def load(folder: Path, kept: Path) -> list[Provider]:
    return read_cached(folder, files(folder), read_provider_data, checked_provider, kept)


def test_the_kept_copy_gives_what_the_files_give_without_parsing_them(folder: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    parsed = load(folder, kept)
    assert kept.exists()
    again = read_cached(folder, files(folder), never, checked_provider, kept)
    assert again == parsed == [read_provider_file(path) for path in files(folder)]
    assert [p.origin for p in again] == files(folder)


def test_an_edited_file_is_parsed_again(folder: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    load(folder, kept)
    google = folder / "google.yaml"
    google.write_text(google.read_text().replace("name: Google Workspace", "name: Google Mail", 1))
    (edited,) = [p for p in load(folder, kept) if p.id == "google"]
    assert edited.name == "Google Mail"


def test_an_added_or_removed_file_is_noticed(folder: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    load(folder, kept)
    (folder / "sendgrid.yaml").unlink()
    assert [p.id for p in load(folder, kept)] == ["google", "mailchimp"]
    shutil.copy2(default_directory() / "postmark.yaml", folder / "postmark.yaml")
    assert [p.id for p in load(folder, kept)] == [
        "google", "mailchimp", "postmark"]


def test_a_copy_made_from_another_directory_is_not_used(folder: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    load(folder, kept)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(folder, elsewhere)  # the same names, sizes and times: only the place differs
    moved = load(elsewhere, kept)
    assert [p.origin for p in moved] == files(elsewhere)


def test_dates_are_kept_as_the_text_the_checks_make_of_them(folder: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    (google,) = [p for p in load(folder, kept) if p.id == "google"]
    (again,) = [p for p in read_cached(folder, files(folder), never, checked_provider, kept) if p.id == "google"]
    assert again.sources == google.sources and google.sources[0].read == "2026-11-23"


def test_data_that_json_would_change_is_not_kept(folder: Path, tmp_path: Path) -> None:
    def parse(path: Path) -> dict[Any, Any]:
        return {**read_provider_data(path), "extra": {1: "one"}}  # JSON has text keys only

    def check(path: Path, data: dict[Any, Any]) -> Provider:
        provider = checked_provider(path, {k: v for k, v in data.items() if k != "extra"})
        return replace(provider, notes=repr(data["extra"]))

    kept = tmp_path / "kept.json"
    assert {p.notes for p in read_cached(folder, files(folder), parse, check, kept)} == {"{1: 'one'}"}
    assert not kept.exists()


def test_a_damaged_copy_is_parsed_around_and_replaced(folder: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    kept.write_bytes(b"not a kept copy")
    parsed = load(folder, kept)
    assert parsed == [read_provider_file(path) for path in files(folder)]
    assert read_cached(folder, files(folder), never, checked_provider, kept) == parsed


def test_nothing_is_kept_when_python_writes_no_bytecode(folder: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    kept = tmp_path / "kept.json"
    load(folder, kept)
    assert not kept.exists()


def test_a_place_that_cannot_be_written_is_no_error(folder: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    parsed = load(folder, blocked / "kept.json")
    assert parsed == [read_provider_file(path) for path in files(folder)]


def test_the_copy_is_readable_by_everyone_like_bytecode(folder: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    load(folder, kept)
    assert os.stat(kept).st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.json", "providers"]  # no temporary left


def test_the_shipped_catalogue_is_the_same_through_its_kept_copy() -> None:
    parsed = load_catalogue(default_directory())  # a directory named explicitly is always parsed
    load_catalogue.cache_clear()
    try:
        load_catalogue()  # keeps the copy
        load_catalogue.cache_clear()
        assert load_catalogue().providers == parsed.providers
    finally:
        load_catalogue.cache_clear()
