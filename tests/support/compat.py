"""A server for client-compatibility tests: Chatterbox's place held by a cloning tone engine."""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import RATE, ToneEngine

CLONING = {"enabled": ["chatterbox", "piper"], "default": "chatterbox", "fallback": None}


def tone_wav(seconds: float = 3.0) -> bytes:
    """A 16-bit mono WAV of a 180 Hz tone: a voice file the library accepts."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        t = np.arange(int(seconds * RATE)) / RATE
        handle.writeframes((0.3 * np.sin(2 * np.pi * 180 * t) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def start(settings: Settings, engines: dict[str, Any] | None = None) -> TestClient:
    """The app over ``engines`` (default: a cloning tone engine as chatterbox); use it as a context."""
    engines = engines if engines is not None else {"chatterbox": ToneEngine(clones_voices=True)}
    return TestClient(create_app(settings, engine=CoreEngine(settings, engines=engines)))


def upload_voice(client: TestClient, filename: str = "anna.wav", **fields: str) -> dict[str, Any]:
    """Upload a tone as a library voice; the response body."""
    response = client.post(
        "/api/v1/voice", data=fields, files={"voice_file": (filename, tone_wav(), "audio/wav")}
    )
    assert response.status_code == 200, response.text
    return response.json()
