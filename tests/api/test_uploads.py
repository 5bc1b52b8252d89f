"""Form variants: an uploaded reference voice for TTS, uploaded clips for VC, URL-encoded bodies."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import EchoConversion, ToneEngine
from utils.audio import decode


@pytest.fixture
def cloner(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, ToneEngine]]:
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None}, limits={"max_upload_mb": 1}
    )
    engine = ToneEngine(clones_voices=True)
    with TestClient(create_app(settings, engine=CoreEngine(settings, engines={"tone": engine}))) as client:
        yield client, engine


def test_an_uploaded_reference_voice_is_used_then_removed(
    cloner: tuple[TestClient, ToneEngine], speech_wav: Path
) -> None:
    client, engine = cloner
    form = {"text": "Cloned from an upload.", "engine": "tone", "export_formats": "wav,mp3", "seed": "5"}
    with speech_wav.open("rb") as audio:
        response = client.post(
            "/api/v1/tts?response_mode=url",
            data=form,
            files={"reference_audio": ("me.wav", audio, "audio/wav")},
        )
    assert response.status_code == 200, response.text
    data = response.json()
    assert [f["format"] for f in data["output_files"]] == ["wav", "mp3"]  # "wav,mp3" read as a list
    assert data["generation_seed_used"] == 5
    assert len(engine.voices_heard) == 1 and not engine.voices_heard[0].exists()


@pytest.mark.parametrize(
    ("upload", "fields", "status", "param"),
    [
        (("reference_audio", b"not audio" * 50), {}, 400, "reference_audio"),
        (("reference_audio", b"\0" * (2 * 2**20)), {}, 413, "reference_audio"),
        (("reference_audio", b""), {}, 400, "reference_audio"),
        (("surprise", b"RIFF"), {}, 400, "surprise"),
        (("reference_audio", None), {"speed_factor": "fast"}, 400, "speed_factor"),
        (("reference_audio", None), {"text": ""}, 400, "text"),
    ],
)
def test_bad_uploads_and_form_fields_name_the_field(
    cloner: tuple[TestClient, ToneEngine],
    speech_wav: Path,
    upload: tuple[str, bytes | None],
    fields: dict,
    status: int,
    param: str,
) -> None:
    client, _ = cloner
    name, content = upload
    files = {name: ("x.wav", speech_wav.read_bytes() if content is None else content, "audio/wav")}
    response = client.post("/api/v1/tts", data={"text": "Hi.", "engine": "tone", **fields}, files=files)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    temp = Path(client.app.state.settings.paths.temp_dir)
    assert not temp.exists() or list(temp.iterdir()) == []  # nothing half-written is left


def test_a_second_file_in_a_one_file_field_is_refused(
    cloner: tuple[TestClient, ToneEngine], speech_wav: Path
) -> None:
    client, engine = cloner
    audio = speech_wav.read_bytes()
    response = client.post(
        "/api/v1/tts",
        data={"text": "Which voice?", "engine": "tone"},
        files=[("reference_audio", ("a.wav", audio)), ("reference_audio", ("b.wav", audio))],
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "reference_audio"
    assert engine.voices_heard == []  # refused before any speech, not one of the two picked silently


def test_a_voice_cannot_be_uploaded_to_an_engine_that_does_not_clone(
    piper_client: TestClient, speech_wav: Path
) -> None:
    with speech_wav.open("rb") as audio:
        response = piper_client.post(
            "/api/v1/tts", data={"text": "Hi."}, files={"reference_audio": ("v.wav", audio)}
        )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "reference_audio"


def test_url_encoded_bodies_are_read_as_form_fields(
    make_settings: Callable[..., Settings], speech_wav: Path
) -> None:
    """``curl -d text=...`` sends application/x-www-form-urlencoded: the same fields as a multipart form."""
    settings = make_settings(
        engines={"enabled": ["piper", "chatterbox-vc"], "default": "piper", "fallback": None}
    )
    inputs, voices = Path(settings.paths.vc_inputs_dir), Path(settings.paths.voices_dir)
    inputs.mkdir(parents=True)
    voices.mkdir(parents=True)
    shutil.copy(speech_wav, inputs / "line.wav")
    shutil.copy(speech_wav, voices / "target.wav")
    engines = {"tone": ToneEngine(clones_voices=True), "chatterbox-vc": EchoConversion()}
    with TestClient(create_app(settings, engine=CoreEngine(settings, engines=engines))) as client:
        form = {"text": "Sent as a plain form.", "engine": "tone", "export_formats": "wav,mp3", "seed": "5"}
        spoken = client.post("/api/v1/tts?response_mode=url", data=form)
        assert spoken.request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert spoken.status_code == 200, spoken.text
        assert [f["format"] for f in spoken.json()["output_files"]] == ["wav", "mp3"]
        assert spoken.json()["generation_seed_used"] == 5
        converted = client.post(
            "/api/v1/vc", data={"input_audio_source": "line.wav", "target_voice_source": "target.wav"}
        )
        assert converted.status_code == 200, converted.text
        assert decode(converted.content).duration == pytest.approx(decode(speech_wav).duration, abs=0.05)
        bad = client.post("/api/v1/tts", data={"text": "Hi.", "engine": "tone", "speed_factor": "fast"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "speed_factor"
