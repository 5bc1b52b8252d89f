"""``stream: true`` on ``/api/v1/tts``: audio as it is generated, every format saved at the end."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import ToneEngine
from utils.audio import decode

TEXT = "The first sentence is here. Then comes the second one. And this is the last."


def test_piper_streams_wav_and_saves_every_format(piper_client: TestClient) -> None:
    body = {"text": TEXT, "stream": True, "export_formats": ["wav", "mp3"], "project": "live"}
    response = piper_client.post("/api/v1/tts", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav" and "content-length" not in response.headers
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert rate == 22050 and len(samples) / rate > 3.0
    listed = piper_client.get("/api/v1/outputs", params={"project": "live"}).json()
    files = {Path(item["filename"]).suffix for item in listed["files"]}
    assert files == {".wav", ".mp3"}
    outputs = Path(piper_client.app.state.settings.paths.outputs_dir) / "live"
    saved = decode(next(outputs.glob("*.wav")))
    assert abs(saved.duration - len(samples) / rate) < 0.01  # the saved file is what was heard


@pytest.mark.parametrize("field", ["trim", "normalize_audio", "use_auto_editor", "timestamps"])
def test_options_that_need_the_whole_audio_are_a_400_naming_them(
    piper_client: TestClient, field: str
) -> None:
    response = piper_client.post("/api/v1/tts", json={"text": TEXT, "stream": True, field: True})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == field
    assert piper_client.get("/api/v1/outputs").json()["total_files"] == 0


@pytest.fixture
def cloning(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, ToneEngine]]:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    engine = ToneEngine(clones_voices=True)
    with TestClient(create_app(settings, engine=CoreEngine(settings, engines={"tone": engine}))) as client:
        yield client, engine


def test_an_uploaded_voice_lasts_until_the_stream_ends(
    cloning: tuple[TestClient, ToneEngine], tmp_path: Path
) -> None:
    client, engine = cloning
    voice = io.BytesIO()
    sf.write(voice, [0.1, -0.1] * 24000, 24000, format="WAV")
    response = client.post(
        "/api/v1/tts",
        data={"text": TEXT, "engine": "tone", "stream": "true", "export_formats": "flac"},
        files={"reference_audio": ("me.wav", voice.getvalue(), "audio/wav")},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/flac"
    assert len(engine.voices_heard) == 3  # each sentence spoken with the upload, which existed then
    streamed = tmp_path / "streamed.flac"  # a streamed FLAC header cannot know its length: decode it all
    streamed.write_bytes(response.content)
    assert decode(streamed).duration == pytest.approx(3 * 3 - 2 * 0.02, abs=0.01)
    assert list(Path(client.app.state.settings.paths.temp_dir).glob("*")) == []
