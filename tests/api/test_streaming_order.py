"""The first audio reaches the client before the last piece of text is even started.

Order of events, not wall-clock thresholds: the engine refuses to start the last chunk until the
client says it has received audio (or 20 s pass). Without streaming, the client could only hear
something after the last chunk, so the engine would time out waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from config import Settings
from core_engine import CoreEngine
from engines.base import SynthesisParams
from main_api import create_app
from tests.support.engines import ToneEngine
from tests.support.live_server import free_port
from utils.audio import Clip


class WaitingEngine(ToneEngine):
    """Speaks each chunk as a tone; before the last chunk it waits for the client's first bytes."""

    name = "waiting"
    max_chunk_chars = 30

    def __init__(self) -> None:
        super().__init__()
        self.heard_first_bytes = threading.Event()
        self.events: list[str] = []
        self.chunks_expected = 3

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        index = len([e for e in self.events if e.startswith("start")])
        if index == self.chunks_expected - 1:
            self.events.append("last chunk waits" if self.heard_first_bytes.wait(20) else "timed out")
        self.events.append(f"start {index}")
        return super().synthesize(text, voice, params)


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, WaitingEngine]]:
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        openai={"models": {"tts-1": "waiting"}},
    )
    engine = WaitingEngine()
    app = create_app(settings, engine=CoreEngine(settings, engines={"waiting": engine}))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    while not server.started:
        threading.Event().wait(0.05)
    yield base, engine
    server.should_exit = True
    thread.join(10)


TEXT = "First short sentence. Second short sentence. Third short sentence."
REQUESTS = {
    "openai audio": (
        "/v1/audio/speech",
        {"model": "tts-1", "voice": "alloy", "input": TEXT, "response_format": "mp3"},
    ),
    "openai sse": (
        "/v1/audio/speech",
        {"model": "tts-1", "voice": "alloy", "input": TEXT, "response_format": "mp3", "stream_format": "sse"},
    ),
    "rest stream": (
        "/api/v1/tts",
        {"text": TEXT, "engine": "waiting", "stream": True, "export_formats": ["mp3"]},
    ),
}


@pytest.mark.parametrize("door", list(REQUESTS))
def test_first_audio_arrives_before_the_last_chunk_starts(
    served: tuple[str, WaitingEngine], door: str
) -> None:
    base, engine = served
    path, body = REQUESTS[door]
    with httpx.stream("POST", f"{base}{path}", json=body, timeout=60) as response:
        assert response.status_code == 200, response.read()
        received = 0
        for piece in response.iter_bytes():
            if piece and not engine.heard_first_bytes.is_set():
                engine.events.append("client has audio")
                engine.heard_first_bytes.set()
            received += len(piece)
    assert received > 0
    # "client has audio" may come before or after "start 1"; it must come before the last chunk
    assert "timed out" not in engine.events
    assert engine.events[-2:] == ["last chunk waits", "start 2"]
    assert engine.events.index("start 0") < engine.events.index("client has audio") < len(engine.events) - 2
