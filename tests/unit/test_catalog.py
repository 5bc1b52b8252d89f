"""Header-only durations, and the catalog's promise that listings never read audio."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import management.library_files
from management.catalog import Catalog
from management.index import Filters, open_index
from management.library_files import header_info
from utils.audio import Clip, encode, get_format, probe


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "opus", "aac"])
def test_probe_reads_duration_and_rate_from_headers(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"x.{get_format(fmt).extension}"
    path.write_bytes(encode(Clip(np.zeros(2 * 24000, dtype=np.float32), 24000), get_format(fmt)))
    info = probe(path)
    assert info is not None and info.duration == pytest.approx(2.0, abs=0.06)
    assert info.sample_rate == get_format(fmt).output_rate(24000) or fmt == "opus"


def test_header_info_of_raw_pcm_needs_the_rate_and_of_junk_is_unknown(tmp_path: Path) -> None:
    raw = tmp_path / "x.pcm"
    raw.write_bytes(b"\0" * 2 * 24000 * 3)
    assert header_info(raw, sample_rate=24000) == (pytest.approx(3.0), 24000)
    assert header_info(raw) == (None, None)
    junk = tmp_path / "x.wav"
    junk.write_bytes(b"not audio" * 100)
    assert header_info(junk) == (None, None)


@pytest.fixture
def catalog(tmp_path: Path, index_url: str | None) -> Iterator[Catalog]:
    """An outputs catalog on each backend of the index."""
    index = open_index(index_url, tmp_path / "index.sqlite3")
    yield Catalog(index, "outputs", tmp_path / "outputs", typed=True)
    index.close()


def test_outputs_with_records_are_indexed_without_opening_the_audio(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        folder = catalog.root / f"p{n}"
        folder.mkdir(parents=True)
        (folder / f"tts_{n}.wav").write_bytes(b"not even audio")
        record = {"type": "tts", "duration_seconds": 1.5 + n, "sample_rate": 24000, "text": f"line {n}"}
        (folder / f"tts_{n}.json").write_text(json.dumps(record))

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("audio was opened")

    monkeypatch.setattr(management.library_files, "probe", refuse)
    assert catalog.scan().added == 3
    page = catalog.page(Filters(), sort="duration", descending=True, page=1, page_size=2)
    assert page.total == 3 and [e.duration for e in page.entries] == [3.5, 2.5]
    assert [e.text for e in page.entries] == ["line 2", "line 1"]
    assert catalog.page(Filters(folder="p0"), sort="name", descending=False, page=1, page_size=50).total == 1


def test_a_record_that_is_not_json_is_ignored(catalog: Catalog) -> None:
    catalog.root.mkdir()
    (catalog.root / "tts_a.wav").write_bytes(
        encode(Clip(np.zeros(8000, dtype=np.float32), 8000), get_format("wav"))
    )
    (catalog.root / "tts_a.json").write_text("{broken")
    catalog.scan()
    [entry] = catalog.select(Filters())
    assert entry.duration == pytest.approx(1.0) and entry.metadata == {} and entry.generation_type == "tts"


@pytest.mark.parametrize("sort", ["name", "date", "size", "duration", "generation_type"])
@pytest.mark.parametrize("folder", ["series", "series/a", None])
def test_pages_are_in_order_whichever_plan_the_index_uses(
    catalog: Catalog, sort: str, folder: str | None
) -> None:
    """Large subtrees, leaf folders and whole libraries are read differently; the answers agree."""
    for n in range(40):
        where = catalog.root / ("series/a" if n % 3 == 0 else "series/b" if n % 3 == 1 else "")
        where.mkdir(parents=True, exist_ok=True)
        kind = ("tts", "vc", "concat")[n * 7 % 3]
        (where / f"{kind}_{n:02d}.wav").write_bytes(b"\0" * (n * 37 % 101))
        record = {
            "type": kind,
            "duration_seconds": n * 13 % 17,
            "created": f"2026-01-01T00:{n * 11 % 60:02d}:00",
        }
        (where / f"{kind}_{n:02d}.json").write_text(json.dumps(record))
    catalog.scan()
    chosen = Filters(folder=folder)
    key = {
        "name": lambda e: (e.name.lower(), e.path),
        "date": lambda e: (e.created, e.path),
        "size": lambda e: (e.size, e.path),
        "duration": lambda e: (e.duration, e.path),
        "generation_type": lambda e: (e.generation_type, e.created, e.path),
    }[sort]
    expected = [e.path for e in sorted(catalog.select(chosen), key=key, reverse=True)]
    pages = [catalog.page(chosen, sort=sort, descending=True, page=n, page_size=4) for n in range(1, 12)]
    assert [e.path for p in pages for e in p.entries] == expected
    assert {p.total for p in pages} == {len(expected)}


def test_a_listing_total_follows_writes_by_another_replica(
    catalog: Catalog, tmp_path: Path, index_url: str | None
) -> None:
    """Totals are cached between pages; a row written through another connection (another replica)
    changes them at once."""
    other = open_index(index_url, tmp_path / "index.sqlite3")
    replica = Catalog(other, "outputs", catalog.root, typed=True)
    catalog.root.mkdir()
    try:
        for n in range(3):
            (catalog.root / f"tts_{n}.wav").write_bytes(b"\0" * 100)
            if n:
                assert catalog.page(Filters(), sort="date", descending=True, page=1, page_size=1).total == n
            replica.record([catalog.root / f"tts_{n}.wav"])
        assert catalog.page(Filters(), sort="date", descending=True, page=2, page_size=1).total == 3
        replica.forget([catalog.root / "tts_0.wav"])
        assert catalog.page(Filters(), sort="name", descending=False, page=1, page_size=1).total == 2
    finally:
        other.close()
