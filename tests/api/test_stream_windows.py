"""Streams that start before a chunk is done (core/windows.py): an engine's windows, heard in order.

A double of a windowed engine (``engines.base.StreamsWindows``): each chunk is a tone it sends in
windows only if the listener wants them (``PartialAudio.wanted``) while the chunk is made, else
whole, as the Chatterbox engine does with S3Gen windows (tests/slow/test_chatterbox_streamed_windows.py
runs the real one). The first chunk of a stream always comes in windows; a later one only when the
audio already sent is less than ``models.stream_window_margin_seconds`` ahead of the listener.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
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
SECONDS = 1.2  # of audio per chunk


class WindowedTone(ToneEngine):
    """Each chunk: 1.2 s of a tone, made in ``making[i]`` seconds (0 by default), in three windows when wanted.

    Chunks are made two at a time; each waits for the listener (``waited``) as the real engine does.
    """

    name = "windowed"
    traits = EngineTraits(concurrency=2, chunks_ahead=2)
    streams_windows = True

    def __init__(self, making: tuple[float, ...] = ()) -> None:
        super().__init__()
        self.making = making
        self.windowed: list[str] = []  # chunks whose audio went out in windows
        self.late: list[str] = []  # ... whose windows were wanted only after the listener waited on them
        self.lock = threading.Lock()

    def synthesize_windowed(
        self, text: str, voice: Path | str | None, params: SynthesisParams, partial: PartialAudio
    ) -> Clip:
        t = np.arange(int(SECONDS * RATE)) / RATE
        whole = (0.1 * np.sin(2 * np.pi * (200 + len(text)) * t)).astype(np.float32)
        assert partial.waited.wait(timeout=30)
        wanted_at_once = partial.wanted.is_set()
        index = [s.rstrip(".") for s in TEXT.lower().split(". ")].index(text.lower().rstrip("."))
        if partial.wanted.wait(timeout=self.making[index] if index < len(self.making) else 0):
            with self.lock:
                self.windowed.append(text)
                if not wanted_at_once:
                    self.late.append(text)
            for piece in np.array_split(whole, 3):
                partial.send(Clip(piece, RATE))
        return Clip(whole, RATE)


Serve = Callable[..., AbstractContextManager[tuple[TestClient, WindowedTone]]]


@pytest.fixture
def serve(make_settings: Callable[..., Settings]) -> Serve:
    """The app on a ``WindowedTone`` with the margin given (and chunk making times)."""

    @contextmanager
    def start(margin: float, making: tuple[float, ...] = ()) -> Iterator[tuple[TestClient, WindowedTone]]:
        settings = make_settings(
            engines={"enabled": ["piper"], "default": "piper", "fallback": None},
            models={"stream_window_margin_seconds": margin},
        )
        engine = WindowedTone(making)
        core = CoreEngine(settings, engines={"windowed": engine})
        with TestClient(create_app(settings, engine=core)) as client:
            yield client, engine

    return start


def _stream(client: TestClient, text: str = TEXT, project: str = "w") -> np.ndarray:
    """The text streamed (saved under outputs/<project>); what was heard, checked to be what was saved."""
    body = {"text": text, "engine": "windowed", "stream": True, "export_formats": ["wav"], "project": project}
    response = client.post("/api/v1/tts", json=body)
    assert response.status_code == 200, response.text
    heard, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    outputs = Path(client.app.state.settings.paths.outputs_dir) / project
    saved = decode(next(outputs.glob("*.wav")))
    chunks = text.count(". ") + 1
    assert (
        rate == RATE and abs(len(heard) / rate - chunks * SECONDS + (chunks - 1) * 0.02) < 0.002
    )  # crossfades
    np.testing.assert_allclose(saved.samples, heard, atol=1e-4)  # what was heard is what was saved
    return heard


def _sentences(text: str = TEXT) -> list[str]:
    return [s.lower().rstrip(".") + "." for s in text.split(". ")]


def test_with_a_large_margin_every_chunk_is_heard_in_windows_in_order(serve: Serve) -> None:
    with serve(margin=60) as (client, engine):
        _stream(client)
    assert [t.lower() for t in engine.windowed] == _sentences()


def test_a_later_chunk_with_plenty_of_audio_ahead_is_sent_whole(serve: Serve) -> None:
    """Chunk 1 is made at once: the 1.2 s sent before it are well over a 0.5 s margin ahead."""
    with serve(margin=0.5) as (client, engine):
        heard = _stream(client)
        assert [t.lower() for t in engine.windowed] == _sentences()[:1]  # the first chunk still in windows
        # whole or windowed, the same audio: the file and the stream as with windows everywhere
        with serve(margin=60) as (everywhere, _):
            np.testing.assert_allclose(_stream(everywhere, project="all"), heard, atol=1e-4)


def test_a_starving_listener_gets_windows_for_a_later_chunk(serve: Serve) -> None:
    """Chunk 1 takes 3 s to make: once the 1.2 s heard run down to the 0.5 s margin, it comes in windows."""
    text = "The first sentence is here. Then comes the second one."
    with serve(margin=0.5, making=(0, 3.0)) as (client, engine):
        _stream(client, text)
    assert [t.lower() for t in engine.windowed] == _sentences(text)
    assert [t.lower() for t in engine.late] == _sentences(text)[1:]  # not at once: when the audio ran short


def test_a_slowed_stream_is_heard_in_whole_chunks(serve: Serve) -> None:
    with serve(margin=60) as (client, engine):
        body = {"text": TEXT, "engine": "windowed", "stream": True, "speed_factor": 1.5}
        response = client.post("/api/v1/tts", json=body)
        assert response.status_code == 200, response.text
    assert engine.windowed == []  # a speed change per window would be heard at every seam
