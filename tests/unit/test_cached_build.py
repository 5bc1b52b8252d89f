"""The test cache of random checkpoints: built once, never left half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.random_checkpoint import CACHE_ENV, cached_build


def test_a_checkpoint_is_built_once_and_a_failed_build_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    builds: list[Path] = []

    def build(folder: Path) -> None:
        builds.append(folder)
        (folder / "a.bin").write_bytes(b"a")

    first = cached_build("ckpt-v1", ["a.bin"], build)
    assert first == tmp_path / "ckpt-v1" and (first / "a.bin").read_bytes() == b"a"
    assert cached_build("ckpt-v1", ["a.bin"], build) == first and len(builds) == 1

    def broken(folder: Path) -> None:
        (folder / "a.bin").write_bytes(b"half")
        raise RuntimeError("killed mid-build")

    with pytest.raises(RuntimeError):
        cached_build("other-v1", ["a.bin"], broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-v1"]  # no partial folder, no temp left

    (tmp_path / "damaged-v1").mkdir()  # a folder missing its files is rebuilt
    assert (cached_build("damaged-v1", ["a.bin"], build) / "a.bin").is_file() and len(builds) == 2
