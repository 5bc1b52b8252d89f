"""Open WebUI and Kokoro-FastAPI clients, replayed with the requests and reads of their own code.

Open WebUI (backend/open_webui/routers/audio.py): ``requests.get(f"{base}/audio/models")`` then
``data.get("models", [])``; ``requests.get(f"{base}/audio/voices")`` then
``{voice["id"]: voice["name"] for voice in data.get("voices", [])}``; speech is
``POST {base}/audio/speech`` with the browser's body and ``model`` set to the configured one.
Kokoro-FastAPI (api/src/structures/schemas.py OpenAISpeechRequest, routers/openai_compatible.py).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from config import Settings
from engines.piper import PiperEngine
from tests.support.compat import CLONING, start, tone_wav, upload_voice
from tests.support.engines import RATE, ToneEngine
from utils.audio import decode

BASE = "/v1"  # what a user types into Open WebUI as the OpenAI base URL is http://host:7860/v1


class BrokenEngine(ToneEngine):
    """A default engine that cannot load, so the fallback serves."""

    def load(self) -> None:
        raise RuntimeError("no weights here")


@pytest.fixture
def cloning(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """Chatterbox's place held by a cloning tone engine, with one library voice uploaded."""
    with start(make_settings(engines=CLONING)) as client:
        upload_voice(client, name="Anna Reads")
        yield client


def _open_webui_voices(client: TestClient) -> dict[str, str]:
    data = client.get(f"{BASE}/audio/voices").json()
    voices_list = data.get("voices", [])
    return {voice["id"]: voice["name"] for voice in voices_list}  # Open WebUI's own line


def test_open_webui_lists_models_and_library_voices(cloning: TestClient) -> None:
    response = cloning.get(f"{BASE}/audio/models")
    assert response.status_code == 200
    models = response.json().get("models", [])
    assert {"tts-1", "chatterbox"} <= {model["id"] for model in models}
    assert all(model["name"] for model in models)
    voices = _open_webui_voices(cloning)
    library = [voice_id for voice_id in voices if voice_id.endswith(".wav")]
    assert len(library) == 1 and voices[library[0]]  # the uploaded voice reaches the dropdown, named
    assert voices["alloy"] == "alloy"


def test_open_webui_speaks_with_a_listed_voice(cloning: TestClient) -> None:
    voice_id = next(v for v in _open_webui_voices(cloning) if v.endswith(".wav"))
    payload = {"input": "Hello from the chat.", "voice": voice_id, "model": "tts-1"}  # as Open WebUI posts it
    response = cloning.post(f"{BASE}/audio/speech", json=payload)
    assert response.status_code == 200, response.text
    assert response.headers["x-voice-source"] == "library"
    assert decode(response.content).duration == pytest.approx(3.0, abs=0.1)


def test_kokoro_legacy_voice_list_is_names(cloning: TestClient) -> None:
    data = cloning.get(f"{BASE}/audio/voices", params={"legacy": "true"}).json()
    assert all(isinstance(name, str) for name in data["voices"])
    assert "alloy" in data["voices"]


def test_kokoro_request_with_its_fields(cloning: TestClient) -> None:
    body = {
        "model": "kokoro",
        "input": "Hello world!",
        "voice": "af_heart",
        "response_format": "wav",
        "speed": 1.0,
        "stream": False,
        "lang_code": "a",
        "volume_multiplier": 2.0,
        "normalization_options": {"normalize": True, "unit_normalization": False},
    }
    response = cloning.post(f"{BASE}/audio/speech", json=body)
    # af_heart is no voice here: the 400 names the field, not a 404 for the model
    assert response.status_code == 400 and response.json()["error"]["param"] == "voice"
    response = cloning.post(f"{BASE}/audio/speech", json={**body, "voice": "alloy"})
    assert response.status_code == 200, response.text
    assert response.headers["x-model-ignored"] == "kokoro"
    assert int(response.headers["content-length"]) == len(response.content)
    with wave.open(io.BytesIO(response.content)) as handle:  # a complete answer: the header's length is exact
        assert handle.getnframes() == 3 * RATE
    assert int.from_bytes(response.content[4:8], "little") == len(response.content) - 8
    clip = decode(response.content)
    assert np.abs(clip.samples).max() == pytest.approx(0.2, abs=0.01)  # the tone's 0.1 peak, doubled


def test_kokoro_download_link_names_a_saved_file(cloning: TestClient) -> None:
    body = {
        "model": "kokoro",
        "input": "Keep this one.",
        "voice": "alloy",
        "response_format": "mp3",
        "download_format": "wav",
        "return_download_link": True,
    }
    response = cloning.post(f"{BASE}/audio/speech", json=body)
    assert response.status_code == 200, response.text
    path = response.headers["x-download-path"]
    assert path.startswith("/download/") and path.endswith(".wav")
    saved = cloning.get(f"{BASE}{path}")  # Kokoro's web player fetches it under the same base
    assert saved.status_code == 200
    assert decode(saved.content).duration == pytest.approx(decode(response.content).duration, abs=0.1)


def test_kokoro_voice_blend_on_an_engine_that_cannot_blend_is_a_clear_400(cloning: TestClient) -> None:
    for voice in ("alloy+nova", "alloy(2)+nova(1)"):
        response = cloning.post(
            f"{BASE}/audio/speech", json={"model": "kokoro", "input": "Hi.", "voice": voice}
        )
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "voice"
        assert response.json()["error"]["code"] == "voice_blend_unsupported"


def test_bad_kokoro_and_travisvn_values_name_the_field(cloning: TestClient) -> None:
    for field, value in (
        ("volume_multiplier", -1),
        ("download_format", "ogg"),
        ("streaming_strategy", "random"),
        ("streaming_chunk_size", 5),
        ("stream", "maybe"),
    ):
        response = cloning.post(f"{BASE}/audio/speech", json={"input": "Hi.", field: value})
        assert response.status_code == 400, field
        assert response.json()["error"]["param"] == field


def test_no_model_no_voice_and_unknown_fields(cloning: TestClient) -> None:
    response = cloning.post(
        f"{BASE}/audio/speech", json={"input": "Just the text.", "colour": "blue", "mood": 3}
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-ignored-fields"] == "colour,mood"
    odd = cloning.post(
        f"{BASE}/audio/speech",
        json={"input": "Hi.", "model": "модель\nx", "ключ": 1, "response_format": "wav"},
    )
    assert odd.status_code == 200, odd.text  # a client's odd names never break the answer's headers
    assert odd.headers["x-ignored-fields"] == "%D0%BA%D0%BB%D1%8E%D1%87"
    assert odd.headers["x-model-ignored"].endswith("%0Ax")
    assert response.headers["x-engine"] == "chatterbox"
    assert decode(response.content).duration == pytest.approx(3.0, abs=0.1)


def test_strict_mode_refuses_unknown_fields_and_models(make_settings: Callable[..., Settings]) -> None:
    with start(make_settings(engines=CLONING, compat={"strict_openai": True})) as client:
        extra = client.post(f"{BASE}/audio/speech", json={"input": "Hi.", "voice": "alloy", "colour": "blue"})
        assert extra.status_code == 400 and extra.json()["error"]["param"] == "colour"
        model = client.post(
            f"{BASE}/audio/speech", json={"input": "Hi.", "voice": "alloy", "model": "kokoro"}
        )
        assert model.status_code == 404 and model.json()["error"]["param"] == "model"


def test_fallback_lists_what_the_fallback_speaks(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(
        engines={"enabled": ["chatterbox", "piper"], "default": "chatterbox", "fallback": "piper"}
    )
    voices_dir = Path(settings.paths.voices_dir)
    voices_dir.mkdir(parents=True)
    (voices_dir / "anna.wav").write_bytes(tone_wav())  # a library voice Piper cannot speak
    engines = {"chatterbox": BrokenEngine(clones_voices=True), "piper": PiperEngine(settings.piper)}
    with start(settings, engines) as client:
        client.post("/api/v1/models/load", json={"engine": "chatterbox"})  # fails: the fallback serves
        assert client.get("/api/v1/models").json()["serving"] == "piper"
        data = client.get(f"{BASE}/audio/voices").json()
    ids = {voice["id"] for voice in data["voices"]}
    assert "en_US-joe-medium" in ids  # Piper's own voice
    assert "anna.wav" not in ids
