"""The one folder walker behind listings (audio only, no hidden files) and housekeeping (every file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from management.library_files import walk_audio, walk_files


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A library with audio, sidecars, hidden files, a hidden folder, a subfolder and symlinks."""
    files = {
        "a.wav": b"RIFF",
        "a.wav.json": b"{}",
        "notes.txt": b"x",
        ".index.sqlite": b"db",
        "sub/b.MP3": b"ID3",
        "sub/b.json": b"{}",
        "sub/.c.wav.part": b"",
        "sub/deeper/d.flac": b"fLaC",
        ".emotions/e.wav": b"RIFF",
    }
    for rel, data in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "o.wav").write_bytes(b"RIFF")
    (tmp_path / "link.wav").symlink_to(tmp_path / "a.wav")
    (tmp_path / "linked").symlink_to(outside, target_is_directory=True)
    return tmp_path


def _rels(root: Path, **options: bool) -> set[str]:
    return {rel for rel, *_ in walk_files(root, **options)}


def test_by_default_every_visible_plain_file_in_every_subfolder(tree: Path) -> None:
    assert _rels(tree) == {"a.wav", "a.wav.json", "notes.txt", "sub/b.MP3", "sub/b.json", "sub/deeper/d.flac"}


def test_hidden_adds_hidden_files_but_never_hidden_folders(tree: Path) -> None:
    assert _rels(tree, hidden=True) - _rels(tree) == {".index.sqlite", "sub/.c.wav.part"}


def test_audio_keeps_audio_files_but_their_folder_entries_hold_the_sidecars(tree: Path) -> None:
    found = {rel: (item, stat, names) for rel, item, stat, names in walk_files(tree, audio=True)}
    assert set(found) == {"a.wav", "sub/b.MP3", "sub/deeper/d.flac"}
    item, stat, names = found["sub/b.MP3"]
    assert item.path == os.path.join(tree, "sub", "b.MP3") and stat.st_size == 3
    assert {"b.json", "deeper"} <= set(names) and ".c.wav.part" not in names


def test_listings_pair_audio_with_its_own_or_shared_sidecar(tree: Path) -> None:
    found = {rel: (sidecar, ns) for rel, _, _, sidecar, ns in walk_audio(tree)}
    assert found["a.wav"] == (tree / "a.wav.json", (tree / "a.wav.json").stat().st_mtime_ns)
    assert found["sub/b.MP3"][0] == tree / "sub" / "b.json"
    assert found["sub/deeper/d.flac"] == (None, 0)


def test_a_missing_root_or_a_file_as_root_yields_nothing(tmp_path: Path) -> None:
    (tmp_path / "file.wav").write_bytes(b"RIFF")
    assert _rels(tmp_path / "absent") == set()
    assert _rels(tmp_path / "file.wav", audio=True) == set()
