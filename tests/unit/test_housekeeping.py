"""Housekeeping: empty, unreadable and stale files go; good files, the index and user JSON stay."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import management.housekeeping
from config import HousekeepingSettings, RetentionSettings
from exceptions import ConflictError
from management.catalog import Catalog
from management.housekeeping import Housekeeper
from management.index import Filters, MetadataIndex, open_index
from utils.audio import Clip, encode, get_format, header_readable

OLD = time.time() - 2 * 3600  # past the grace period and the temp age


def audio(path: Path, seconds: float = 0.5, fmt: str = "wav", *, when: float = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(Clip(np.zeros(int(seconds * 24000), dtype=np.float32), 24000), get_format(fmt)))
    os.utime(path, (when, when))
    return path


def junk(path: Path, data: bytes = b"", *, when: float = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (when, when))
    return path


def keeper(tmp_path: Path, index_url: str | None = None, **settings: object) -> tuple[Housekeeper, Catalog]:
    index = open_index(index_url, tmp_path / "outputs" / ".index.sqlite3")
    outputs = Catalog(index, "outputs", tmp_path / "outputs", typed=True)
    vc_inputs = Catalog(index, "vc_inputs", tmp_path / "vc_inputs")
    folders = {name: tmp_path / name for name in ("outputs", "voices", "vc_inputs")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    house = Housekeeper(
        HousekeepingSettings(**settings),  # type: ignore[arg-type]
        folders,
        tmp_path / "temp",
        {"outputs": outputs, "vc_inputs": vc_inputs},
    )
    return house, outputs


def removed(run: object) -> set[tuple[str, str, str]]:
    return {(r.library, r.path, r.reason) for r in run.removals}  # type: ignore[attr-defined]


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """Good and bad files in every library, some in subfolders."""
    audio(tmp_path / "outputs" / "book" / "ch1" / "tts_good.wav")
    (tmp_path / "outputs" / "book" / "ch1" / "tts_good.json").write_text('{"type": "tts"}')
    junk(tmp_path / "outputs" / "book" / "ch1" / "tts_empty.wav")
    junk(tmp_path / "outputs" / "tts_corrupt.mp3", b"this is not an mp3 at all" * 40)
    junk(tmp_path / "outputs" / "tts_gone.json", b'{"type": "tts", "files": {"wav": "tts_gone.wav"}}')
    junk(tmp_path / "outputs" / "notes.json", b'{"mine": true}')  # the user's, not a sidecar
    audio(tmp_path / "voices" / "narrators" / "anna.flac", fmt="flac")
    junk(tmp_path / "voices" / "narrators" / "anna.flac.json", b'{"name": "Anna"}')
    junk(tmp_path / "voices" / "narrators" / "bob.wav", b"RIFF\x00\x00\x00\x00WAVEjunk")
    junk(tmp_path / "voices" / "narrators" / "bob.wav.json", b'{"name": "Bob"}')
    junk(tmp_path / "voices" / "lost.mp3.json", b"{}")
    junk(tmp_path / "voices" / ".emotions" / "x.json", b"")  # hidden folders are never touched
    junk(tmp_path / "voices" / "piper" / "en.onnx.json", b'{"type": "vits", "files": {}}')  # a Piper voice
    junk(tmp_path / "vc_inputs" / "p" / "clip.wav")
    audio(tmp_path / "vc_inputs" / "p" / "ok.wav")
    junk(tmp_path / "vc_inputs" / ".ok.wav.abc123.part", b"half a file")  # an abandoned write
    junk(tmp_path / "temp" / "upload_x.wav", b"left behind")
    junk(tmp_path / "temp" / "fresh.wav", b"in use", when=time.time())
    return tmp_path


EXPECTED = {
    ("outputs", "book/ch1/tts_empty.wav", "empty"),
    ("outputs", "tts_corrupt.mp3", "unreadable"),
    ("outputs", "tts_gone.json", "orphan_sidecar"),
    ("voices", "narrators/bob.wav", "unreadable"),
    ("voices", "narrators/bob.wav.json", "orphan_sidecar"),
    ("voices", "lost.mp3.json", "orphan_sidecar"),
    ("vc_inputs", "p/clip.wav", "empty"),
    ("vc_inputs", ".ok.wav.abc123.part", "stale_temp"),
    ("temp", "upload_x.wav", "stale_temp"),
}


def test_bad_files_go_in_every_subfolder_and_good_ones_stay(messy: Path) -> None:
    house, outputs = keeper(messy)
    outputs.scan()
    assert outputs.index.get("outputs", "tts_corrupt.mp3") is not None
    run = house.run()
    assert removed(run) == EXPECTED
    for library, path, _ in EXPECTED:
        assert not (messy / library / path).exists()
    for kept in (
        "outputs/book/ch1/tts_good.wav",
        "outputs/book/ch1/tts_good.json",
        "outputs/notes.json",
        "outputs/.index.sqlite3",
        "voices/narrators/anna.flac",
        "voices/narrators/anna.flac.json",
        "voices/.emotions/x.json",
        "voices/piper/en.onnx.json",
        "vc_inputs/p/ok.wav",
        "temp/fresh.wav",
    ):
        assert (messy / kept).exists(), kept
    # the index forgot what went, and only that
    assert [e.path for e in outputs.select(Filters())] == ["book/ch1/tts_good.wav"]
    assert run.total_bytes == sum(r.bytes for r in run.removals) > 0
    assert house.history[-1] is run


def test_a_dry_run_removes_nothing(messy: Path) -> None:
    house, outputs = keeper(messy)
    outputs.scan()
    before = sorted(p for p in messy.rglob("*"))
    run = house.run(dry_run=True)
    assert removed(run) == EXPECTED and run.dry_run
    assert sorted(p for p in messy.rglob("*")) == before
    assert len(outputs.select(Filters())) == 3


def test_files_within_the_grace_period_are_left_alone(tmp_path: Path) -> None:
    house, _ = keeper(tmp_path)
    junk(tmp_path / "outputs" / "being_written.wav", when=time.time())
    assert house.run().removals == []
    assert (tmp_path / "outputs" / "being_written.wav").exists()


def test_retention_removes_the_oldest_outputs_with_their_sidecars(tmp_path: Path) -> None:
    house, outputs = keeper(tmp_path, retention=RetentionSettings(max_total_mb=0.05))
    day = 86400
    for n, age in enumerate((30, 20, 10, 1)):
        when = time.time() - age * day
        audio(tmp_path / "outputs" / f"tts_{n}.wav", seconds=0.5, when=when)  # 24 kB each
        sidecar = tmp_path / "outputs" / f"tts_{n}.json"
        sidecar.write_text(json.dumps({"type": "tts", "files": {"wav": f"tts_{n}.wav"}}))
        os.utime(sidecar, (when, when))
    outputs.scan()
    run = house.run()
    assert removed(run) == {
        ("outputs", "tts_0.wav", "retention_size"),
        ("outputs", "tts_0.json", "retention_size"),
        ("outputs", "tts_1.wav", "retention_size"),
        ("outputs", "tts_1.json", "retention_size"),
    }
    assert sorted(e.path for e in outputs.select(Filters())) == ["tts_2.wav", "tts_3.wav"]
    assert not (tmp_path / "outputs" / "tts_0.json").exists()

    house, outputs = keeper(tmp_path, retention=RetentionSettings(max_age_days=5))
    assert removed(house.run(dry_run=True)) == {
        ("outputs", "tts_2.wav", "retention_age"),
        ("outputs", "tts_2.json", "retention_age"),
    }


def test_no_retention_by_default(tmp_path: Path) -> None:
    house, outputs = keeper(tmp_path)
    audio(tmp_path / "outputs" / "ancient.wav", when=time.time() - 3000 * 86400)
    outputs.scan()
    assert house.run().removals == []


def test_the_schedule_runs_at_start_and_stops_promptly(messy: Path) -> None:
    house, _ = keeper(messy, interval_hours=1000)
    house.start()
    deadline = time.monotonic() + 10
    while not house.history and time.monotonic() < deadline:
        time.sleep(0.02)
    assert house.history and house.history[0].trigger == "start"
    state = house.state()
    assert state.running and state.next_run and state.next_run > time.time() + 3000
    started = time.monotonic()
    house.stop()
    assert time.monotonic() - started < 2 and not house.state().running


def test_stopping_cuts_a_run_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    house, _ = keeper(tmp_path)
    for n in range(50):
        junk(tmp_path / "outputs" / f"x{n}.wav", b"garbage")
    entered = threading.Event()

    def slow(path: Path) -> bool:
        entered.set()
        time.sleep(0.05)
        return False

    monkeypatch.setattr("management.housekeeping.header_readable", slow)
    worker = threading.Thread(target=house.run)
    worker.start()
    entered.wait(5)
    house.stop()
    worker.join(2)
    assert not worker.is_alive() and house.history[-1].stopped


def test_disabled_housekeeping_starts_no_thread(tmp_path: Path) -> None:
    house, _ = keeper(tmp_path, enabled=False, on_start=False)
    house.start()
    assert not house.state().running
    house.stop()


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "opus", "aac"])
def test_header_check_accepts_every_format_we_write(tmp_path: Path, fmt: str) -> None:
    assert header_readable(audio(tmp_path / f"x.{get_format(fmt).extension}", fmt=fmt))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("x.wav", b"RIFF\x00\x00garbage" * 10),
        ("x.flac", bytes(range(256)) * 2),
        ("x.mp3", b"hello, not an mp3" * 40),
        ("x.m4a", b"nope" * 100),
    ],
)
def test_header_check_refuses_garbage(tmp_path: Path, name: str, data: bytes) -> None:
    assert not header_readable(junk(tmp_path / name, data))


def _take(index: MetadataIndex, barrier: threading.Barrier, got: list[bool]) -> None:
    """Try the index's lock the moment the other thread does; note whether it was ours."""
    barrier.wait()
    with index.exclusive("race") as ours:
        got.append(ours)


def test_two_replicas_taking_the_index_lock_at_once_never_both_lose(tmp_path: Path) -> None:
    """SQLite's lock taken by two connections at the same moment: one gets it (or both, one after the
    other), never neither (with no wait at all, 13 % of such races were lost by both)."""
    indexes = [open_index(None, tmp_path / ".index.sqlite3") for _ in range(2)]
    lost_by_both = 0
    for _ in range(500):
        barrier, got = threading.Barrier(2), []
        threads = [threading.Thread(target=_take, args=(index, barrier, got)) for index in indexes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        lost_by_both += not any(got)
    assert lost_by_both == 0


def test_two_replicas_racing_run_housekeeping_once(
    tmp_path: Path, index_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two servers sharing the folders and the index (a file, or one PostgreSQL database) start a run
    at the same moment: one runs, the other is told another replica is running it."""
    corrupt = junk(tmp_path / "outputs" / "tts_corrupt.mp3", b"this is not an mp3 at all" * 40)
    inside, release = threading.Event(), threading.Event()
    check = management.housekeeping.header_readable

    def slow_check(path: Path) -> bool:
        inside.set()
        release.wait(10)
        return check(path)

    monkeypatch.setattr(management.housekeeping, "header_readable", slow_check)
    replicas = [keeper(tmp_path, index_url)[0] for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run(house: Housekeeper) -> None:
        barrier.wait()
        try:
            results.append(house.run())
        except ConflictError as exc:
            results.append(exc)

    threads = [threading.Thread(target=run, args=(house,)) for house in replicas]
    for thread in threads:
        thread.start()
    assert inside.wait(10)  # one run is under way, holding the lock
    deadline = time.monotonic() + 10
    while not results and time.monotonic() < deadline:  # the other is refused without waiting
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(10)
    [refused] = [r for r in results if isinstance(r, ConflictError)]
    [done] = [r for r in results if not isinstance(r, ConflictError)]
    assert refused.code == "housekeeping_running" and "another replica" in refused.message
    assert removed(done) == {("outputs", "tts_corrupt.mp3", "unreadable")} and not corrupt.exists()
    # the lock is let go: the next run, in either replica, runs (and finds nothing left)
    assert removed(replicas[1].run()) == set() and removed(replicas[0].run(dry_run=True)) == set()
