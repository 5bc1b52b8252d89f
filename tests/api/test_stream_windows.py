"""Streams that start before a chunk is done (core/windows.py): an engine's windows, heard in order.

A double of a windowed engine (``engines.base.StreamsWindows``): each chunk is a tone whose windows
it sends only once the listener waits on that chunk, then returns the whole chunk, as the Chatterbox
engine does with S3Gen windows (tests/slow/test_chatterbox_streamed_windows.py runs the real one).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.base import EngineTraits, PartialAudio, SynthesisParams
from main_api import create_app
from tests.support.engines import RATE, ToneEngine
from utils.audio import Clip, decode

TEXT = "The first sentence is here. Then comes the second one. And this is the last."


class WindowedTone(ToneEngine):
    """Each chunk: 1.2 s of a tone, sent in three windows when wanted; chunks made two at a time."""

    name = "windowed"
    traits = EngineTraits(concurrency=2, chunks_ahead=2)
    streams_windows = True

    def __init__(self) -> None:
        super().__init__()
        self.windowed: list[str] = []  # chunks whose audio went out in windows
        self.lock = threading.Lock()

    def synthesize_windowed(
        self, text: str, voice: Path | str | None, params: SynthesisParams, partial: PartialAudio
    ) -> Clip:
        t = np.arange(int(1.2 * RATE)) / RATE
        whole = (0.1 * np.sin(2 * np.pi * (200 + len(text)) * t)).astype(np.float32)
        if partial.wanted.wait(timeout=30):
            with self.lock:
                self.windowed.append(text)
            for piece in np.array_split(whole, 3):
                partial.send(Clip(piece, RATE))
        return Clip(whole, RATE)


@pytest.fixture
def windowed(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, WindowedTone]]:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    engine = WindowedTone()
    core = CoreEngine(settings, engines={"windowed": engine})
    with TestClient(create_app(settings, engine=core)) as client:
        yield client, engine


def test_windows_of_every_chunk_are_heard_in_order_and_the_file_is_the_whole(
    windowed: tuple[TestClient, WindowedTone],
) -> None:
    client, engine = windowed
    body = {"text": TEXT, "engine": "windowed", "stream": True, "export_formats": ["wav"], "project": "w"}
    response = client.post("/api/v1/tts", json=body)
    assert response.status_code == 200, response.text
    heard, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert [t.lower() for t in engine.windowed] == [s.lower() + "." for s in TEXT[:-1].split(". ")]
    outputs = Path(client.app.state.settings.paths.outputs_dir) / "w"
    saved = decode(next(outputs.glob("*.wav")))
    assert rate == RATE and abs(len(heard) / rate - 3 * 1.2 + 2 * 0.02) < 0.002  # two 20 ms crossfades
    np.testing.assert_allclose(saved.samples, heard, atol=1e-4)  # what was heard is what was saved


def test_a_slowed_stream_is_heard_in_whole_chunks(windowed: tuple[TestClient, WindowedTone]) -> None:
    client, engine = windowed
    body = {"text": TEXT, "engine": "windowed", "stream": True, "speed_factor": 1.5}
    response = client.post("/api/v1/tts", json=body)
    assert response.status_code == 200, response.text
    assert engine.windowed == []  # a speed change per window would be heard at every seam
