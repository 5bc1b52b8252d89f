"""FileEncoders: every format written from one stream; a failure stops every thread, never hangs."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from utils.audio import decode, get_format
from utils.audio.writers import FileEncoders


def test_every_target_gets_the_whole_stream(tmp_path: Path) -> None:
    targets = {get_format(name): tmp_path / f"out.{name}" for name in ("wav", "mp3", "flac")}
    encoders = FileEncoders(targets, 24000, depth=2)
    for _ in range(20):
        encoders.feed(np.full(2400, 0.1, np.float32))
    encoders.close()
    for path in targets.values():
        assert len(decode(path).samples) == 48000, path.name


@pytest.mark.parametrize("blocks", [0, 1, 30])
def test_abort_returns_at_any_point(tmp_path: Path, blocks: int) -> None:
    targets = {get_format(name): tmp_path / f"out.{name}" for name in ("wav", "mp3")}
    encoders = FileEncoders(targets, 24000, depth=2)
    for _ in range(blocks):
        encoders.feed(np.full(24000, 0.1, np.float32))
    done = threading.Event()
    threading.Thread(target=lambda: (encoders.abort(), done.set()), daemon=True).start()
    assert done.wait(10), "abort hung"


def test_an_encoder_failure_reaches_the_producer(tmp_path: Path) -> None:
    encoders = FileEncoders({get_format("wav"): tmp_path / "missing-folder" / "out.wav"}, 24000, depth=1)
    with pytest.raises(FileNotFoundError):
        for _ in range(50):
            encoders.feed(np.zeros(2400, np.float32))
        encoders.close()
    encoders.abort()
