"""travisvn/chatterbox-tts-api clients: streamed speech with an uploaded voice, and its voice library routes.

Replayed as its README, docs/VOICE_LIBRARY_MANAGEMENT.md and frontend send them: multipart
``/v1/audio/speech/stream/upload`` (``input, voice, exaggeration, cfg_weight, temperature, voice_file``);
``POST /v1/voices`` (``voice_name, voice_file, language``), ``GET/PUT/DELETE /v1/voices/{name}``,
``GET /v1/voices/{name}/download``, ``GET /v1/voices/all-names``; the same paths without ``/v1``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from tests.support.compat import CLONING, start, tone_wav
from tests.support.engines import RATE, ToneEngine
from utils.audio import decode


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, ToneEngine, Settings]]:
    engine = ToneEngine(clones_voices=True)
    settings = make_settings(engines=CLONING)
    with start(settings, {"chatterbox": engine}) as client:
        yield client, engine, settings


def leftovers(settings: Settings) -> list[Path]:
    temp = Path(settings.paths.temp_dir)
    return [p for p in temp.rglob("*") if p.is_file()] if temp.is_dir() else []


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_stream_upload_speaks_with_the_sent_file_and_removes_it(
    served: tuple[TestClient, ToneEngine, Settings], prefix: str
) -> None:
    client, engine, settings = served
    form = {"input": "Stream with my file.", "exaggeration": "0.6", "cfg_weight": "0.5", "temperature": "0.8"}
    with client.stream(
        "POST",
        f"{prefix}/audio/speech/stream/upload",
        data=form,
        files={"voice_file": ("me.wav", tone_wav(2.0), "audio/wav")},
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "audio/wav"
        assert "content-length" not in response.headers  # streamed as spoken
        body = response.read()
    clip = decode(body)
    assert clip.sample_rate == RATE and clip.duration == pytest.approx(3.0, abs=0.1)
    heard = engine.voices_heard[-1]
    assert heard.suffix == ".wav" and not heard.exists()  # the upload was used, then removed
    assert leftovers(settings) == []


def test_stream_upload_without_a_file_and_bad_fields(served: tuple[TestClient, ToneEngine, Settings]) -> None:
    client, _, settings = served
    plain = client.post(
        "/v1/audio/speech/stream/upload", data={"input": "No file.", "response_format": "mp3"}
    )
    assert plain.status_code == 200 and plain.headers["content-type"] == "audio/mpeg"
    assert decode(plain.content).duration == pytest.approx(3.0, abs=0.1)
    for form, files, field in (
        ({"input": "Hi.", "response_format": "ogg"}, None, "response_format"),
        ({"input": "Hi.", "temperature": "99"}, None, "temperature"),
        ({"input": "Hi."}, {"voice_file": ("x.wav", b"not audio", "audio/wav")}, "voice_file"),
    ):
        answer = client.post("/v1/audio/speech/stream/upload", data=form, files=files)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == field, answer.text
    assert leftovers(settings) == []


def test_voice_library_upload_use_rename_download_delete(
    served: tuple[TestClient, ToneEngine, Settings],
) -> None:
    client, engine, settings = served
    audio = tone_wav(2.0)
    upload = {"voice_name": "bob", "language": "en"}
    created = client.post("/v1/voices", data=upload, files={"voice_file": ("sample.wav", audio, "audio/wav")})
    assert created.status_code == 201, created.text
    voice = created.json()["voice"]
    assert created.json()["message"] == "Voice uploaded successfully"
    assert (voice["filename"], voice["file_size"], voice["language"]) == ("bob.wav", len(audio), "en")
    assert (Path(settings.paths.voices_dir) / "bob.wav").is_file()

    spoken = client.post("/v1/audio/speech", json={"input": "As Bob.", "voice": "bob"})
    assert spoken.status_code == 200 and spoken.headers["x-voice-source"] == "library"
    assert engine.voices_heard[-1].name == "bob.wav"
    assert client.get("/voices/bob").json()["voice"]["filename"] == "bob.wav"
    downloaded = client.get("/v1/voices/bob/download")
    assert downloaded.content == audio and "attachment" in downloaded.headers["content-disposition"]
    assert client.get("/v1/voices/all-names").json() == {"voice_names": ["bob"], "count": 1}

    taken = client.post("/v1/voices", data=upload, files={"voice_file": ("other.wav", audio, "audio/wav")})
    assert taken.status_code == 409 and taken.json()["error"]["param"] == "voice_name"
    foreign = client.post(
        "/v1/voices", data={"voice_name": "ana", "language": "xx"}, files={"voice_file": ("a.wav", audio)}
    )
    assert foreign.status_code == 400 and foreign.json()["error"]["param"] == "language"

    renamed = client.put("/v1/voices/bob", data={"new_name": "robert"})
    assert renamed.json() == {
        "message": "Voice renamed successfully",
        "old_name": "bob",
        "new_name": "robert",
    }
    assert client.get("/v1/voices/bob").status_code == 404
    again = client.post("/v1/audio/speech", json={"input": "Renamed.", "voice": "robert"})
    assert again.status_code == 200 and engine.voices_heard[-1].name == "robert.wav"

    deleted = client.delete("/voices/robert")
    assert deleted.json() == {"message": "Voice deleted successfully", "voice_name": "robert"}
    assert client.get("/v1/voices").json()["count"] == 0
    assert not (Path(settings.paths.voices_dir) / "robert.wav").exists()
    missing = client.delete("/v1/voices/robert")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "voice_name"


def test_default_voice_is_the_configured_fallback(make_settings: Callable[..., Settings]) -> None:
    with start(make_settings(engines=CLONING)) as client:
        assert client.get("/v1/voices/default").json() == {"default_voice": None, "source": "engine"}
    with start(make_settings(engines=CLONING, openai={"fallback_voice": "narrator"})) as client:
        assert client.get("/voices/default").json()["default_voice"] == "narrator"
