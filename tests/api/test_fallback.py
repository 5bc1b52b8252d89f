"""Falling back to Piper tells the truth: what only Chatterbox can do is a 503 naming it and why."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from main_api import create_app
from tests.conftest import wait_until_ready


@pytest.fixture(scope="module")
def degraded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Chatterbox is the default but its checkpoint folder lacks the weights: Piper serves."""
    from config import load_settings

    root = tmp_path_factory.mktemp("fallback")
    empty = root / "ckpt"
    empty.mkdir()
    folders = {name: str(root / name) for name in ("voices", "outputs", "vc_inputs", "temp")}
    settings = load_settings(
        paths={f"{name}_dir": path for name, path in folders.items()},
        piper={"voices_dir": str(root / "piper_voices")},
        models={"checkpoint_dir": str(empty)},
        ui={"enabled": False},
    )
    with TestClient(create_app(settings)) as client:
        health = wait_until_ready(client)
        assert health["serving_engine"] == "piper"
        yield client


def _refusal(response: httpx.Response, param: str) -> str:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["param"] == param
    message = error["message"]
    assert "'chatterbox'" in message and "lacks ve.safetensors" in message  # which engine, and why
    assert "Chatterbox weights" in message  # and how to provide them
    return message


def test_a_library_voice_is_a_503_naming_chatterbox_not_a_404_from_piper(
    degraded: TestClient, speech_wav: Path
) -> None:
    upload = degraded.post(
        "/api/v1/voice", data={"name": "narrator"}, files={"voice_file": ("n.wav", speech_wav.read_bytes())}
    )
    assert upload.status_code in (200, 201), upload.text
    response = degraded.post("/api/v1/tts", json={"text": "Once upon a time.", "voice": "narrator"})
    assert "voice 'narrator'" in _refusal(response, "voice")
    unknown = degraded.post("/api/v1/tts", json={"text": "Hi.", "voice": "nobody"})
    _refusal(unknown, "voice")
    job = degraded.post("/api/v1/tts/jobs", json={"text": "A long tale.", "voice": "narrator"})
    _refusal(job, "voice")  # a job is refused at once, not after it was queued


def test_chatterbox_only_controls_and_languages_are_503s(degraded: TestClient) -> None:
    _refusal(degraded.post("/api/v1/tts", json={"text": "Hi.", "exaggeration": 0.7}), "exaggeration")
    _refusal(degraded.post("/api/v1/tts", json={"text": "Hallo.", "language": "de"}), "language")
    streamed = degraded.post("/api/v1/tts", json={"text": "Hi.", "cfg_weight": 0.3, "stream": True})
    _refusal(streamed, "cfg_weight")


def test_a_plain_request_falls_back_and_says_so(degraded: TestClient) -> None:
    response = degraded.post("/api/v1/tts", json={"text": "Still speaking."})
    assert response.status_code == 200
    assert response.headers["x-engine"] == "piper"
    note = response.headers["x-engine-fallback"]
    assert note.startswith("piper spoke instead of chatterbox") and "ve.safetensors" in note
    audio, rate = sf.read(io.BytesIO(response.content))
    assert rate == 22050 and len(audio) / rate > 0.5
    described = degraded.post("/api/v1/tts?response_mode=json", json={"text": "Still speaking."}).json()
    assert any(w.startswith("piper spoke instead of chatterbox") for w in described["warnings"])
    streamed = degraded.post("/api/v1/tts", json={"text": "Streamed too.", "stream": True})
    assert streamed.status_code == 200 and "chatterbox" in streamed.headers["x-engine-fallback"]


def test_naming_piper_is_not_a_fallback(degraded: TestClient) -> None:
    response = degraded.post("/api/v1/tts", json={"text": "Plainly.", "engine": "piper", "exaggeration": 0.7})
    assert response.status_code == 200
    assert "x-engine-fallback" not in response.headers
    assert "piper ignores exaggeration" in response.headers["x-warnings"]
