"""The voice library below HTTP: usage counts under concurrency, names, a streamed export."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from exceptions import InvalidRequestError
from management.catalog import Catalog
from management.index import Filters, open_index
from management.voices import VoiceLibrary, export_zip, search_text, voice_name
from management.voices.marks import default_voice, forget_missing, set_default


def _library(tmp_path: Path, index_url: str | None = None) -> VoiceLibrary:
    index = open_index(index_url, tmp_path / "index.sqlite3")
    catalog = Catalog(index, "voices", tmp_path / "voices", search_text=search_text)
    (tmp_path / "voices").mkdir()
    return VoiceLibrary(catalog)


def _voice(library: VoiceLibrary, name: str, seconds: float = 6.0) -> Path:
    path = library.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * 16000)) / 16000
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    return path


def test_concurrent_uses_are_all_counted(tmp_path: Path, index_url: str | None) -> None:
    library = _library(tmp_path, index_url)
    path = _voice(library, "a/anna.wav")
    library.add(path, description="Narrator", tags=["calm"])
    threads = [threading.Thread(target=library.record_use, args=(path,)) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sidecar = json.loads(path.with_name("anna.wav.json").read_text())
    assert sidecar["usage_count"] == 16 and sidecar["last_used"] and sidecar["description"] == "Narrator"
    [entry] = library.catalog.select(Filters(tag="CALM"))
    assert entry.metadata["usage_count"] == 16


def test_uses_of_files_outside_the_library_or_gone_are_ignored(tmp_path: Path) -> None:
    library = _library(tmp_path)
    outside = tmp_path / "upload.wav"
    outside.write_bytes(b"x")
    library.record_use(outside)
    library.record_use(library.root / "gone.wav")
    assert not outside.with_name("upload.wav.json").exists()
    assert list(library.root.iterdir()) == []


def test_a_voice_dropped_in_by_hand_gets_a_sidecar_on_first_use(tmp_path: Path) -> None:
    library = _library(tmp_path)
    path = _voice(library, "bob.wav")
    library.catalog.scan()
    library.record_use(path)
    sidecar = json.loads(path.with_name("bob.wav.json").read_text())
    assert (
        sidecar["usage_count"] == 1 and sidecar["description"] == "Voice file: bob" and sidecar["tags"] == []
    )


@pytest.mark.parametrize(
    ("name", "expected"), [("anna", "anna"), ("anna.wav", "anna"), ("v1.2", "v1.2"), ("Zoë Ä", "Zoë Ä")]
)
def test_voice_names(name: str, expected: str) -> None:
    assert voice_name(name, param="name") == expected


@pytest.mark.parametrize("name", ["", "a/b", "../x", ".hidden", "con", "a\\b"])
def test_bad_voice_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        voice_name(name, param="name")
    assert caught.value.param == "name"


def test_the_export_is_a_valid_zip_produced_in_pieces(tmp_path: Path) -> None:
    library = _library(tmp_path)
    for name in ("a.wav", "b/c.wav"):
        library.add(_voice(library, name, seconds=60.0), analyze=False)
    pieces = list(export_zip(library, library.catalog.select(Filters())))
    assert len(pieces) > 3 and max(len(p) for p in pieces) <= 2 * 2**20  # never the whole archive at once
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == ["a.wav", "a.wav.json", "b/c.wav", "b/c.wav.json"]
        assert archive.read("b/c.wav") == (library.root / "b/c.wav").read_bytes()


def test_cleanup_keeps_a_record_written_moments_ago(tmp_path: Path) -> None:
    """An upload writes its record before its audio: a cleanup in between must not take the record."""
    library = _library(tmp_path)
    fresh = library.root / "arriving.wav.json"
    fresh.write_text(json.dumps({"name": "arriving"}))
    old = library.root / "gone.wav.json"
    old.write_text(json.dumps({"name": "gone"}))
    os.utime(old, (time.time() - 120, time.time() - 120))
    assert forget_missing(library, grace_seconds=60) == ["gone.wav"]
    assert fresh.is_file() and not old.exists()


def test_the_default_mark_is_on_one_voice_at_most(tmp_path: Path, index_url: str | None) -> None:
    library = _library(tmp_path, index_url)
    for name in ("anna.wav", "bob.wav"):
        library.add(_voice(library, name, seconds=1.0))
    anna, bob = (library.get(name, param="voice") for name in ("anna", "bob"))
    set_default(library, anna)
    set_default(library, bob)
    assert default_voice(library) is not None and default_voice(library).path == "bob.wav"  # type: ignore[union-attr]
    assert "default_voice" not in json.loads((library.root / "anna.wav.json").read_text())
    set_default(library, None)
    assert default_voice(library) is None
