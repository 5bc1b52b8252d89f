"""Clients of travisvn/chatterbox-tts-api and devnen/Chatterbox-TTS-Server, replayed as they send.

travisvn: frontend/src/services/tts.ts (base URL http://host:4123/v1): multipart ``/audio/speech/upload``
with ``input, voice, exaggeration, cfg_weight, temperature, voice_file``; JSON ``/audio/speech`` and
``/audio/speech/stream`` with ``{"input": ...}`` and no model or voice; ``/voices``, ``/languages``, ``/ping``.
devnen: models.py ``CustomTTSRequest`` to ``POST /tts``; ``GET /get_predefined_voices`` ->
``[{"display_name", "filename"}]`` (ui/script.js fills its dropdown from both keys).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from config import Settings
from tests.support.compat import CLONING, start, tone_wav, upload_voice
from tests.support.engines import RATE, ToneEngine
from utils.audio import decode

V1 = "/v1"  # travisvn's clients default to http://localhost:4123/v1


@pytest.fixture
def cloner(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, ToneEngine]]:
    engine = ToneEngine(clones_voices=True)
    with start(make_settings(engines=CLONING), {"chatterbox": engine}) as client:
        upload_voice(client, "my_voice-2.wav")
        yield client, engine


def test_travisvn_json_speech_without_model_or_voice(cloner: tuple[TestClient, ToneEngine]) -> None:
    client, _ = cloner
    body = {"input": "Hello from the API.", "exaggeration": 0.7, "cfg_weight": 0.4, "temperature": 0.8}
    response = client.post(f"{V1}/audio/speech", json=body)
    assert response.status_code == 200, response.text
    assert decode(response.content).duration == pytest.approx(3.0, abs=0.1)


def test_travisvn_stream_route_answers_wav(cloner: tuple[TestClient, ToneEngine]) -> None:
    client, _ = cloner
    body = {"input": "Streaming now.", "streaming_chunk_size": 100, "streaming_strategy": "sentence"}
    response = client.post(f"{V1}/audio/speech/stream", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert response.content[:4] == b"RIFF"
    samples = decode(response.content)
    assert samples.sample_rate == RATE and samples.duration == pytest.approx(3.0, abs=0.1)


def test_travisvn_upload_clones_the_sent_voice(cloner: tuple[TestClient, ToneEngine]) -> None:
    client, engine = cloner
    form = {
        "input": "Use my file.",
        "voice": "alloy",
        "exaggeration": "0.6",
        "cfg_weight": "0.5",
        "temperature": "0.8",
    }
    response = client.post(
        f"{V1}/audio/speech/upload", data=form, files={"voice_file": ("me.wav", tone_wav(2.0), "audio/wav")}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as handle:
        assert handle.getnframes() == 3 * RATE and handle.getframerate() == RATE
    assert (
        engine.voices_heard and engine.voices_heard[-1].name != "my_voice-2.wav"
    )  # the upload, not the library
    assert not engine.voices_heard[-1].exists()  # removed after the request


def test_travisvn_upload_bad_values_name_the_field(cloner: tuple[TestClient, ToneEngine]) -> None:
    client, _ = cloner
    for field, value in (("exaggeration", "9"), ("streaming_strategy", "random"), ("input", "  ")):
        response = client.post(f"{V1}/audio/speech/upload", data={"input": "Hi.", field: value})
        assert response.status_code == 400, (field, response.text)
        assert response.json()["error"]["param"] == field
    not_audio = client.post(
        f"{V1}/audio/speech/upload",
        data={"input": "Hi."},
        files={"voice_file": ("x.wav", b"not audio", "audio/wav")},
    )
    assert not_audio.status_code == 400 and not_audio.json()["error"]["param"] == "voice_file"


def test_travisvn_voices_languages_ping(cloner: tuple[TestClient, ToneEngine]) -> None:
    client, _ = cloner
    for prefix in (V1, ""):
        voices = client.get(f"{prefix}/voices").json()
        assert voices["count"] == 1 and voices["voices"][0]["name"] == "my_voice-2.wav"
        languages = client.get(f"{prefix}/languages").json()
        assert {"code": "en", "name": "English"} in languages["languages"]
        assert languages["count"] == len(languages["languages"])
        assert client.get(f"{prefix}/ping").json()["status"] == "ok"
    spoken = client.post(f"{V1}/audio/speech", json={"input": "Hi.", "voice": voices["voices"][0]["name"]})
    assert spoken.status_code == 200 and spoken.headers["x-voice-source"] == "library"


def test_devnen_predefined_voices_then_tts(cloner: tuple[TestClient, ToneEngine]) -> None:
    client, engine = cloner
    voices = client.get("/get_predefined_voices").json()
    assert voices == [{"display_name": "My Voice 2", "filename": "my_voice-2.wav"}]
    body = {
        "text": "Hello from devnen's client.",
        "voice_mode": "predefined",
        "predefined_voice_id": voices[0]["filename"],
        "output_format": "mp3",
        "split_text": True,
        "chunk_size": 120,
        "temperature": 0.5,
        "exaggeration": 0.5,
        "cfg_weight": 0.5,
        "seed": 42,
        "speed_factor": 2.0,
        "language": "en",
    }
    response = client.post("/tts", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["content-disposition"].startswith('attachment; filename="tts_output_')
    assert response.headers["x-generation-seed"] == "42"
    assert decode(response.content).duration == pytest.approx(1.5, abs=0.1)  # speed_factor 2 halves it
    assert engine.voices_heard[-1].name == "my_voice-2.wav"


def test_devnen_clone_mode_and_bad_input(cloner: tuple[TestClient, ToneEngine]) -> None:
    client, engine = cloner
    clone = {"text": "Cloned.", "voice_mode": "clone", "reference_audio_filename": "my_voice-2.wav"}
    response = client.post("/tts", json=clone)
    assert response.status_code == 200 and response.content[:4] == b"RIFF"
    assert engine.voices_heard[-1].name == "my_voice-2.wav"
    for body, field in (
        ({"text": "x", "voice_mode": "clone"}, "reference_audio_filename"),
        ({"text": "x", "output_format": "flac"}, "output_format"),
        ({"text": "x", "chunk_size": 10}, "chunk_size"),
        ({"text": "x", "predefined_voice_id": "nobody.wav"}, "predefined_voice_id"),
        (
            {"text": "x", "voice_mode": "clone", "reference_audio_filename": "../x.wav"},
            "reference_audio_filename",
        ),
        ({"text": ""}, "text"),
    ):
        answer = client.post("/tts", json=body)
        assert 400 <= answer.status_code < 500, (body, answer.text)
        assert answer.json()["error"]["param"] == field, body
