"""The voice conditionals cache: content keys, LRU bounds, disk reuse, invalidation on edit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engines.conditionals_cache import CacheCodec, ConditionalsCache, fingerprint

CODEC: CacheCodec[dict] = CacheCodec(
    sizeof=lambda v: len(v["data"]),
    save=lambda v, p: p.write_text(json.dumps(v)),
    load=lambda p: json.loads(p.read_text()),
)


class Conditioner:
    """Counts the expensive work, so a test can tell a cache hit from a miss."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, path: Path) -> dict:
        self.calls.append(path.name)
        return {"data": path.read_text()}


def cache(
    tmp_path: Path, *, entries: int = 8, max_bytes: int = 10**6, disk: bool = True
) -> ConditionalsCache:
    made = ConditionalsCache(
        CODEC, max_entries=entries, max_bytes=max_bytes, disk_dir=tmp_path / "disk" if disk else None
    )
    made.open("engine-abc")
    return made


def voice(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


def test_second_use_of_a_voice_does_no_conditioning_work(tmp_path: Path) -> None:
    c, work = cache(tmp_path), Conditioner()
    alice = voice(tmp_path, "alice.wav", "alice")
    key, first = c.get(alice, work)
    assert c.get(alice, work) == (key, first)
    assert work.calls == ["alice.wav"]
    assert (c.stats.hits, c.stats.misses) == (1, 1)
    assert key.startswith("engine-abc-") and len(key) == len("engine-abc-") + 64


def test_editing_the_voice_file_conditions_again_and_drops_the_old_entry(tmp_path: Path) -> None:
    c, work = cache(tmp_path), Conditioner()
    alice = voice(tmp_path, "alice.wav", "alice")
    old_key, _ = c.get(alice, work)
    alice.write_text("alice, re-recorded")
    os.utime(alice, ns=(1, 1))  # a different mtime even on coarse clocks
    new_key, value = c.get(alice, work)
    assert new_key != old_key and value == {"data": "alice, re-recorded"}
    assert work.calls == ["alice.wav", "alice.wav"]
    assert not (tmp_path / "disk" / f"{old_key}.pt").exists()
    assert (tmp_path / "disk" / f"{new_key}.pt").exists()
    assert c.stats.entries == 1


def test_a_file_replaced_by_one_of_the_same_size_and_time_conditions_again(tmp_path: Path) -> None:
    """An upload with overwrite renames a new file over the voice; a coarse clock may give it the old time."""
    c, work = cache(tmp_path), Conditioner()
    alice = voice(tmp_path, "alice.wav", "alice")
    old_key, _ = c.get(alice, work)
    before = alice.stat()
    replacement = voice(tmp_path, ".alice.wav.part", "ALICE")  # the same size
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, alice)
    new_key, value = c.get(alice, work)
    assert new_key != old_key and value == {"data": "ALICE"}
    assert work.calls == ["alice.wav", "alice.wav"]


def test_touching_a_file_without_changing_it_keeps_its_conditionals(tmp_path: Path) -> None:
    c, work = cache(tmp_path), Conditioner()
    alice = voice(tmp_path, "alice.wav", "alice")
    key, _ = c.get(alice, work)
    os.utime(alice, ns=(5, 5))
    assert c.get(alice, work)[0] == key
    assert work.calls == ["alice.wav"]


def test_the_same_recording_under_two_names_is_conditioned_once(tmp_path: Path) -> None:
    c, work = cache(tmp_path), Conditioner()
    a = voice(tmp_path, "a.wav", "same bytes")
    b = voice(tmp_path, "b.wav", "same bytes")
    assert c.get(a, work)[0] == c.get(b, work)[0]
    assert work.calls == ["a.wav"]


def test_a_restart_reads_the_disk_cache_instead_of_conditioning(tmp_path: Path) -> None:
    alice = voice(tmp_path, "alice.wav", "alice")
    cache(tmp_path).get(alice, Conditioner())
    restarted, work = cache(tmp_path), Conditioner()
    assert restarted.get(alice, work)[1] == {"data": "alice"}
    assert work.calls == [] and restarted.stats.disk_hits == 1


def test_other_weights_never_reuse_conditionals(tmp_path: Path) -> None:
    alice = voice(tmp_path, "alice.wav", "alice")
    cache(tmp_path).get(alice, Conditioner())
    other, work = cache(tmp_path), Conditioner()
    other.open("engine-def")  # another checkpoint
    other.get(alice, work)
    assert work.calls == ["alice.wav"]


def test_memory_is_bounded_by_entries_least_recently_used_first(tmp_path: Path) -> None:
    c, work = cache(tmp_path, entries=2, disk=False), Conditioner()
    a, b, d = (voice(tmp_path, f"{n}.wav", n) for n in "abd")
    c.get(a, work), c.get(b, work), c.get(a, work)  # b is now the least recently used
    c.get(d, work)
    c.get(a, work)
    assert work.calls == ["a.wav", "b.wav", "d.wav"]
    c.get(b, work)
    assert work.calls[-1] == "b.wav" and c.stats.entries == 2


def test_memory_is_bounded_by_bytes(tmp_path: Path) -> None:
    c, work = cache(tmp_path, max_bytes=10, disk=False), Conditioner()
    big = voice(tmp_path, "big.wav", "x" * 8)
    small = voice(tmp_path, "small.wav", "y" * 4)
    c.get(big, work), c.get(small, work)
    assert (c.stats.entries, c.stats.bytes) == (1, 4)  # 12 bytes would not fit
    c.get(big, work)
    assert work.calls == ["big.wav", "small.wav", "big.wav"]


def test_a_damaged_disk_entry_is_recomputed(tmp_path: Path) -> None:
    alice = voice(tmp_path, "alice.wav", "alice")
    key, _ = cache(tmp_path).get(alice, Conditioner())
    (tmp_path / "disk" / f"{key}.pt").write_text("{not json")
    restarted, work = cache(tmp_path), Conditioner()
    assert restarted.get(alice, work)[1] == {"data": "alice"}
    assert work.calls == ["alice.wav"]
    assert json.loads((tmp_path / "disk" / f"{key}.pt").read_text()) == {"data": "alice"}


def test_no_partial_files_are_left_in_the_disk_cache(tmp_path: Path) -> None:
    def failing_save(value: dict, path: Path) -> None:
        path.write_text("half")
        raise OSError("disk full")

    c = ConditionalsCache(
        CacheCodec(CODEC.sizeof, failing_save, CODEC.load),
        max_entries=4,
        max_bytes=100,
        disk_dir=tmp_path / "d",
    )
    c.open("e")
    assert c.get(voice(tmp_path, "a.wav", "a"), Conditioner())[1] == {"data": "a"}
    assert list((tmp_path / "d").iterdir()) == []


@pytest.mark.parametrize("change", ["size", "mtime"])
def test_fingerprint_follows_the_weight_files(tmp_path: Path, change: str) -> None:
    weights = voice(tmp_path, "t3.safetensors", "weights")
    before = fingerprint("folder", files=(weights,))
    assert fingerprint("folder", files=(weights,)) == before
    if change == "size":
        weights.write_text("new weights!")
    else:
        os.utime(weights, ns=(7, 7))
    assert fingerprint("folder", files=(weights,)) != before
