"""OutputStore.pending: parts become outputs together on commit, or vanish on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exceptions import ConflictError
from management.outputs import OutputStore


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_commit_publishes_every_part_and_the_sidecar(tmp_path: Path) -> None:
    store = OutputStore(tmp_path)
    with store.pending("job", ["wav", "mp3"], project="a/b") as pending:
        for part in pending.parts.values():
            part.write_bytes(b"x")
        assert files(tmp_path) == sorted(p.name for p in pending.parts.values())  # hidden while written
        paths = pending.commit({"type": "concat"})
    assert files(tmp_path) == ["job.json", "job.mp3", "job.wav"]
    assert json.loads((tmp_path / "a/b/job.json").read_text())["files"] == {
        "wav": "job.wav",
        "mp3": "job.mp3",
    }
    assert paths["wav"] == tmp_path / "a/b/job.wav"


def test_a_failure_midway_leaves_nothing(tmp_path: Path) -> None:
    store = OutputStore(tmp_path)
    with pytest.raises(RuntimeError), store.pending("job", ["wav", "flac"]) as pending:
        pending.parts["wav"].write_bytes(b"half")
        raise RuntimeError("decoder failed")
    assert files(tmp_path) == []


def test_generated_names_never_collide_and_chosen_names_conflict(tmp_path: Path) -> None:
    store = OutputStore(tmp_path)
    for _ in range(2):
        with store.pending("concat_x", ["wav"]) as pending:
            pending.parts["wav"].write_bytes(b"x")
            pending.commit({})
    assert files(tmp_path) == ["concat_x.json", "concat_x.wav", "concat_x_2.json", "concat_x_2.wav"]
    with pytest.raises(ConflictError), store.pending("concat_x", ["mp3"], exact=True):
        pass
    with store.pending("concat_x", ["mp3"], exact=True, overwrite=True) as pending:
        pending.parts["mp3"].write_bytes(b"y")
        pending.commit({})
    # the overwritten output's other format went with it
    assert files(tmp_path) == ["concat_x.json", "concat_x.mp3", "concat_x_2.json", "concat_x_2.wav"]
