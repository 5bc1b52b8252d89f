"""Emotion profiles: CRUD, and speaking with one wherever a voice is accepted."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.base import SynthesisParams
from main_api import create_app
from tests.support.engines import EchoConversion, ToneEngine
from utils.audio import Clip, decode, encode, get_format


class RecordingCloner(ToneEngine):
    """A cloning tone engine that remembers each call's reference file and parameters."""

    def __init__(self) -> None:
        super().__init__(clones_voices=True)
        self.calls: list[tuple[Path | str | None, SynthesisParams]] = []

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        self.calls.append((voice, params))
        return super().synthesize(text, voice, params)


def wav_bytes(seconds: float = 1.5) -> bytes:
    return encode(Clip(np.zeros(int(seconds * 24000), dtype=np.float32), 24000), get_format("wav"))


@pytest.fixture
def engine() -> RecordingCloner:
    return RecordingCloner()


@pytest.fixture
def client(make_settings: Callable[..., Settings], engine: RecordingCloner) -> Iterator[TestClient]:
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        housekeeping={"on_start": False},
        openai={"models": {"tts-1": "tone"}},
    )
    voices = Path(settings.paths.voices_dir)
    for name in ("narrator/calm.wav", "narrator/happy.wav", "anna.wav"):
        (voices / name).parent.mkdir(parents=True, exist_ok=True)
        (voices / name).write_bytes(wav_bytes())
    with TestClient(create_app(settings, engine=CoreEngine(settings, engines={"tone": engine}))) as client:
        yield client


def voices_dir(client: TestClient) -> Path:
    return Path(client.app.state.settings.paths.voices_dir)


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    body = {
        "character": "Narrator",
        "emotion": "Happy",
        "exaggeration": 1.2,
        "samples": ["narrator/happy"],
        **body,
    }
    response = client.post("/api/v1/emotions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_profile_is_created_listed_changed_and_deleted(client: TestClient) -> None:
    made = create(client, parameters={"cfg_weight": 0.3, "temperature": 0.6}, description="Cheerful")
    assert made["id"] == "narrator-happy" and made["voice"] == "emotion:narrator-happy"
    assert made["samples"] == ["narrator/happy.wav"]
    assert made["parameters"] == {"cfg_weight": 0.3, "temperature": 0.6}
    stored = json.loads((voices_dir(client) / ".emotions" / "narrator-happy.json").read_text())
    assert stored["exaggeration"] == 1.2 and stored["character"] == "Narrator"
    create(client, emotion="calm", samples=["narrator/calm.wav"], exaggeration=0.3)
    create(client, character="Anna", emotion="angry", samples=["anna"], id="anna-cross")

    listing = client.get("/api/v1/emotions").json()
    assert listing["count"] == 3
    assert [p["id"] for p in listing["profiles"]] == ["anna-cross", "narrator-calm", "narrator-happy"]
    mine = client.get("/api/v1/emotions", params={"character": "narrator"}).json()
    assert [p["emotion"] for p in mine["profiles"]] == ["calm", "Happy"]
    assert client.get("/api/v1/emotions/narrator-happy").json()["description"] == "Cheerful"

    changed = client.put(
        "/api/v1/emotions/narrator-happy", json={"exaggeration": 1.5, "samples": ["narrator/happy", "anna"]}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["exaggeration"] == 1.5 and body["samples"] == ["narrator/happy.wav", "anna.wav"]
    assert body["parameters"] == {"cfg_weight": 0.3, "temperature": 0.6}  # untouched
    assert body["created"] == made["created"] and body["updated"] >= made["updated"]

    deleted = client.delete("/api/v1/emotions/narrator-happy")
    assert deleted.status_code == 200 and deleted.json()["id"] == "narrator-happy"
    assert client.get("/api/v1/emotions/narrator-happy").status_code == 404
    assert (voices_dir(client) / "narrator" / "happy.wav").exists()  # samples stay


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param"),
    [
        ("get", "/api/v1/emotions/nobody", None, 404, "id"),
        ("put", "/api/v1/emotions/nobody", {"exaggeration": 1}, 404, "id"),
        ("delete", "/api/v1/emotions/nobody", None, 404, "id"),
        ("post", "/api/v1/emotions/nobody/test", {}, 404, "id"),
        ("post", "/api/v1/emotions", {"character": "N", "emotion": "x", "samples": []}, 400, "samples"),
        ("post", "/api/v1/emotions", {"character": "N", "emotion": "x", "samples": ["ghost"]}, 404, "samples"),
        ("post", "/api/v1/emotions", {"character": "N", "emotion": "x", "samples": ["anna"], "exaggeration": 3}, 400, "exaggeration"),
        ("post", "/api/v1/emotions", {"character": "N:M", "emotion": "x", "samples": ["anna"]}, 400, "character"),
        ("post", "/api/v1/emotions", {"character": "N", "emotion": "x", "samples": ["anna"], "id": "Bad Id"}, 400, "id"),
        ("post", "/api/v1/emotions", {"character": "N", "emotion": "x", "samples": ["../x"]}, 400, "samples"),
        ("post", "/api/v1/emotions", {"character": "N", "emotion": "x", "samples": ["anna"], "parameters": {"speed": 2}}, 400, "parameters.speed"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None, status: int, param: str
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param


def test_a_taken_id_or_name_is_a_conflict(client: TestClient) -> None:
    create(client)
    again = client.post(
        "/api/v1/emotions",
        json={"character": "Narrator", "emotion": "x", "samples": ["anna"], "id": "narrator-happy"},
    )
    assert again.status_code == 409 and again.json()["error"]["param"] == "id"
    same = client.post(
        "/api/v1/emotions",
        json={"character": "narrator", "emotion": "HAPPY", "samples": ["anna"], "id": "other"},
    )
    assert same.status_code == 409 and same.json()["error"]["param"] == "emotion"
    create(client, emotion="sad", samples=["anna"])
    clash = client.put("/api/v1/emotions/narrator-sad", json={"emotion": "happy"})
    assert clash.status_code == 409


def test_tts_with_a_profile_uses_its_sample_and_parameters(
    client: TestClient, engine: RecordingCloner
) -> None:
    create(client, parameters={"cfg_weight": 0.25, "temperature": 0.6, "seed": 42})
    for voice in ("emotion:narrator-happy", "narrator-happy", "Narrator:happy"):
        engine.calls.clear()
        response = client.post(
            "/api/v1/tts?response_mode=url",
            json={"text": "Hi.", "engine": "tone", "voice": voice, "export_formats": ["wav"]},
        )
        assert response.status_code == 200, response.text
        ((heard, params),) = engine.calls
        assert heard == (voices_dir(client) / "narrator" / "happy.wav").resolve()
        assert (params.exaggeration, params.cfg_weight, params.temperature, params.seed) == (
            1.2,
            0.25,
            0.6,
            42,
        )
    sidecar = (
        Path(client.app.state.settings.paths.outputs_dir) / response.json()["output_files"][0]["filename"]
    )
    assert json.loads(sidecar.with_suffix(".json").read_text())["emotion_profile"] == "narrator-happy"

    engine.calls.clear()
    client.post(
        "/api/v1/tts",
        json={
            "text": "Hi.",
            "engine": "tone",
            "voice": "emotion:narrator-happy",
            "exaggeration": 0.1,
            "seed": 7,
        },
    )
    ((_, params),) = engine.calls
    assert (params.exaggeration, params.cfg_weight, params.seed) == (
        0.1,
        0.25,
        7,
    )  # the request's own values win


def test_a_library_voice_wins_over_a_profile_of_the_same_name(
    client: TestClient, engine: RecordingCloner
) -> None:
    create(client, id="anna", character="Anna", emotion="sad", samples=["narrator/calm"])
    client.post("/api/v1/tts", json={"text": "Hi.", "engine": "tone", "voice": "anna"})
    client.post("/api/v1/tts", json={"text": "Hi.", "engine": "tone", "voice": "emotion:anna"})
    assert [Path(str(voice)).name for voice, _ in engine.calls] == ["anna.wav", "calm.wav"]
    missing = client.post("/api/v1/tts", json={"text": "Hi.", "engine": "tone", "voice": "emotion:ghost"})
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "voice"


def test_the_test_endpoint_speaks_with_the_profile(client: TestClient, engine: RecordingCloner) -> None:
    create(client)
    response = client.post("/api/v1/emotions/narrator-happy/test", json={"engine": "tone"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("audio/")
    assert decode_bytes(response.content).duration == pytest.approx(3.0, abs=0.05)
    ((heard, params),) = engine.calls
    assert heard.name == "happy.wav" and params.exaggeration == 1.2
    as_json = client.post(
        "/api/v1/emotions/narrator-happy/test?response_mode=url",
        json={"text": "Custom line.", "engine": "tone", "export_formats": ["mp3"]},
    )
    assert as_json.status_code == 200 and as_json.json()["output_files"][0]["format"] == "mp3"


def test_the_openai_route_speaks_with_a_profile(client: TestClient, engine: RecordingCloner) -> None:
    create(client, parameters={"cfg_weight": 0.2})
    response = client.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "input": "Hello.", "voice": "Narrator:happy", "response_format": "wav"},
    )
    assert response.status_code == 200, response.text
    ((heard, params),) = engine.calls
    assert heard.name == "happy.wav" and (params.exaggeration, params.cfg_weight) == (1.2, 0.2)
    listed = client.get("/v1/audio/voices").json()["voices"]
    assert {
        "id": "emotion:narrator-happy",
        "name": "Narrator (Happy)",
        "source": "emotion",
        "speaks_with": "narrator/happy.wav",
    } in listed


def test_samples_can_be_uploaded_with_the_profile(client: TestClient, engine: RecordingCloner) -> None:
    response = client.post(
        "/api/v1/emotions",
        data={
            "character": "Bob",
            "emotion": "tired",
            "exaggeration": "0.4",
            "cfg_weight": "0.7",
            "samples": "anna",
        },
        files=[
            ("sample_files", ("yawn.wav", io.BytesIO(wav_bytes()), "audio/wav")),
            ("sample_files", ("sigh.wav", io.BytesIO(wav_bytes()), "audio/wav")),
        ],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["samples"] == ["anna.wav", "bob/yawn.wav", "bob/sigh.wav"]
    assert body["parameters"] == {"cfg_weight": 0.7}
    assert (voices_dir(client) / "bob" / "sigh.wav").is_file()

    refused = client.post(
        "/api/v1/emotions",
        data={"character": "Bob", "emotion": "TIRED"},
        files=[("sample_files", ("again.wav", io.BytesIO(wav_bytes()), "audio/wav"))],
    )
    assert refused.status_code == 409
    assert not (voices_dir(client) / "bob" / "again.wav").exists()  # the upload went with the refusal
    bad = client.post(
        "/api/v1/emotions",
        data={"character": "Bob", "emotion": "x"},
        files=[("sample_files", ("x.wav", io.BytesIO(b"not audio" * 40), "audio/wav"))],
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "sample_files"


def test_more_sample_files_than_allowed_are_refused(client: TestClient) -> None:
    files = [("sample_files", (f"s{i}.wav", io.BytesIO(wav_bytes()), "audio/wav")) for i in range(5)]
    response = client.post("/api/v1/emotions", data={"character": "Cy", "emotion": "calm"}, files=files)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "sample_files"
    assert "at most 4" in response.json()["error"]["message"]
    assert not (voices_dir(client) / "cy").exists()  # nothing kept from a refused request


def test_profile_parameters_may_come_as_json_text_in_a_form(client: TestClient) -> None:
    def sample() -> list:
        return [("sample_files", ("di.wav", io.BytesIO(wav_bytes()), "audio/wav"))]

    response = client.post(
        "/api/v1/emotions",
        data={"character": "Di", "emotion": "glad", "parameters": '{"cfg_weight": 0.2}'},
        files=sample(),
    )
    assert response.status_code == 201, response.text
    assert response.json()["parameters"] == {"cfg_weight": 0.2}
    bad = client.post(
        "/api/v1/emotions",
        data={"character": "Di", "emotion": "sad", "parameters": "{not json"},
        files=sample(),
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "parameters"


def decode_bytes(data: bytes) -> Clip:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".wav") as handle:
        handle.write(data)
        handle.flush()
        return decode(Path(handle.name))


class RecordingConversion(EchoConversion):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[Path | None] = []

    def convert(self, source: Clip, target_voice: Path | None, params: SynthesisParams) -> Clip:
        self.targets.append(target_voice)
        return source


def test_a_profile_is_a_vc_target_voice(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        engines={"enabled": ["piper", "chatterbox-vc"], "default": "piper", "fallback": None},
        housekeeping={"on_start": False},
    )
    voices, inputs = Path(settings.paths.voices_dir), Path(settings.paths.vc_inputs_dir)
    (voices / "narrator").mkdir(parents=True)
    (voices / "narrator" / "happy.wav").write_bytes(wav_bytes())
    inputs.mkdir(parents=True)
    (inputs / "line.wav").write_bytes(wav_bytes(1.0))
    vc = RecordingConversion()
    engines = {"tone": RecordingCloner(), "chatterbox-vc": vc}
    with TestClient(create_app(settings, engine=CoreEngine(settings, engines=engines))) as client:
        create(client)
        response = client.post(
            "/api/v1/vc?response_mode=url",
            json={
                "input_audio_source": "line.wav",
                "target_voice_source": "narrator:happy",
                "export_formats": ["wav"],
            },
        )
        assert response.status_code == 200, response.text
    assert [Path(str(t)).name for t in vc.targets] == ["happy.wav"]
