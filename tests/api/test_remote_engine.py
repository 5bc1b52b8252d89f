"""A remote OpenAI-compatible server as an engine: a second instance of this server (serving Piper)
on loopback is the remote, so the speech that comes back is real and checked by Whisper."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import load_settings
from main_api import create_app
from tests.conftest import similarity, wait_until_ready
from tests.support.live_server import free_port, serve_in_thread

TEXT = "The harbour was quiet that morning. Then the bell rang twice. Everyone ran down to the water."
SECRET = "sk-remote-secret-4711"
PIPER_ONLY = {"enabled": ["piper"], "default": "piper", "fallback": None}


def _settings(root: Path, **sections: Any) -> Any:
    paths = {
        name: str(root / name.removesuffix("_dir"))
        for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")
    }
    sections.setdefault("engines", PIPER_ONLY)
    return load_settings(paths=paths, ui={"enabled": False}, **sections)


@pytest.fixture(scope="module")
def remote_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The remote: this server, serving only Piper."""
    with serve_in_thread(create_app(_settings(tmp_path_factory.mktemp("remote")))) as base:
        yield base


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, remote_url: str) -> Iterator[str]:
    """The server under test: Piper, the remote ``twin`` (with an API key) and a remote that is down."""
    remotes = {
        "twin": {
            "base_url": f"{remote_url}/v1",
            "api_key": SECRET,
            "voices": {"joe": "en_US-joe-medium"},
            "default_voice": "alloy",
            "response_format": "wav",
        },
        "dead": {"base_url": f"http://127.0.0.1:{free_port()}", "timeout_seconds": 5},
    }
    settings = _settings(
        tmp_path_factory.mktemp("local"),
        remotes=remotes,
        openai={"models": {"tts-1": "default", "twin-hd": "remote:twin"}},
    )
    with serve_in_thread(create_app(settings)) as base:
        yield base


def test_tts_through_the_remote_is_the_remotes_speech(
    server: str, tmp_path: Path, transcribe: Callable[[Path], str]
) -> None:
    response = httpx.post(
        f"{server}/api/v1/tts", json={"text": TEXT, "engine": "remote:twin", "voice": "joe"}, timeout=120
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-engine"] == "remote:twin"
    samples, rate = sf.read(io.BytesIO(response.content))
    assert rate == 22050  # Piper's rate, as the remote sent it
    assert len(samples) / rate > 3.0
    path = tmp_path / "heard.wav"
    path.write_bytes(response.content)
    assert similarity(transcribe(path), TEXT) > 0.8


def test_the_openai_route_streams_a_model_mapped_to_the_remote(server: str) -> None:
    body = {"model": "twin-hd", "voice": "alloy", "input": TEXT, "response_format": "pcm"}
    with httpx.stream("POST", f"{server}/v1/audio/speech", json=body, timeout=120) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "audio/pcm"
        pieces = [piece for piece in response.iter_bytes() if piece]
    assert len(pieces) >= 2  # sentence by sentence
    assert len(b"".join(pieces)) / 2 / 22050 > 3.0
    direct = httpx.post(f"{server}/v1/audio/speech", json={**body, "model": "remote:twin"}, timeout=120)
    assert direct.status_code == 200, direct.text
    models = httpx.get(f"{server}/v1/models").json()["data"]
    assert {"twin-hd", "remote:twin"} <= {model["id"] for model in models}


def test_a_remote_refusal_comes_back_naming_the_remote_and_the_field(server: str) -> None:
    response = httpx.post(
        f"{server}/api/v1/tts",
        json={"text": "Hello.", "engine": "remote:twin", "voice": "nobody"},
        timeout=60,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "remote 'twin' answered 400" in error["message"]
    assert "nobody" in error["message"]
    assert error["param"] == "voice"


def test_an_unreachable_remote_is_a_503_naming_it(server: str) -> None:
    response = httpx.post(
        f"{server}/api/v1/tts", json={"text": "Hello.", "engine": "remote:dead"}, timeout=60
    )
    assert response.status_code == 503, response.text
    message = response.json()["error"]["message"]
    assert "remote 'dead'" in message and "unreachable" in message
    # Piper and the other remote are unaffected.
    assert httpx.post(f"{server}/api/v1/tts", json={"text": "Still here."}, timeout=60).status_code == 200


def test_engines_lists_every_engine_with_state_and_capabilities(server: str, remote_url: str) -> None:
    httpx.post(f"{server}/api/v1/tts", json={"text": "Hi.", "engine": "remote:dead"}, timeout=60)
    body = httpx.get(f"{server}/api/v1/engines").json()
    engines = {engine["name"]: engine for engine in body["engines"]}
    assert set(engines) == {"piper", "remote:twin", "remote:dead"}
    assert body["default"] == "piper" and body["serving"] == "piper"
    piper = engines["piper"]
    assert piper["state"] == "loaded" and piper["reason"] is None
    assert piper["capabilities"] == {
        "voice_cloning": False,
        "voice_conversion": False,
        "text_to_speech": True,
        "streaming": True,
        "languages": ["en"],
        "sample_rate": 22050,
    }
    twin = engines["remote:twin"]
    assert twin["state"] == "loaded"
    assert twin["details"]["base_url"] == remote_url  # the /v1 given in the configuration is dropped
    assert twin["capabilities"]["voice_cloning"] is False and twin["capabilities"]["languages"] == ["en"]
    dead = engines["remote:dead"]
    assert dead["state"] == "unavailable"
    assert "unreachable" in dead["reason"]


def test_the_api_key_is_never_shown(server: str) -> None:
    config = httpx.get(f"{server}/api/v1/config")
    assert config.status_code == 200
    assert SECRET not in config.text
    assert "api_key" not in config.json()["remotes"]["twin"]
    assert config.json()["remotes"]["twin"]["model"] == "tts-1"
    assert SECRET not in httpx.get(f"{server}/api/v1/engines").text


def test_a_remote_can_be_the_default_engine(tmp_path: Path, remote_url: str) -> None:
    settings = _settings(
        tmp_path,
        remotes={"twin": {"base_url": remote_url}},
        engines={"enabled": ["piper"], "default": "remote:twin", "fallback": "piper"},
    )
    with TestClient(create_app(settings)) as client:
        assert wait_until_ready(client)["serving_engine"] == "remote:twin"
        response = client.post("/api/v1/tts", json={"text": "Hello there, from far away."})
        assert response.status_code == 200, response.text
        assert response.headers["x-engine"] == "remote:twin"
