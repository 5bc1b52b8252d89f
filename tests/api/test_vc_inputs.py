"""Uploading, listing and deleting clips in vc_inputs/."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from exceptions import InvalidRequestError
from main_api import create_app
from tests.api.test_outputs_library import drop_audio
from tests.support.engines import EchoConversion, ToneEngine


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        engines={"enabled": ["piper", "chatterbox-vc"], "default": "piper", "fallback": None},
        limits={"max_upload_mb": 1},
    )


def start(settings: Settings) -> TestClient:
    engines = {"tone": ToneEngine(), "chatterbox-vc": EchoConversion()}
    return TestClient(create_app(settings, engine=CoreEngine(settings, engines=engines)))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with start(settings) as client:
        yield client


def upload(
    client: TestClient, content: bytes, name: str = "line.wav", **fields: str
) -> Any:  # an httpx.Response
    return client.post("/api/v1/vc_input", data=fields, files={"vc_input_file": (name, content, "audio/wav")})


def inputs_dir(client: TestClient) -> Path:
    return Path(client.app.state.settings.paths.vc_inputs_dir)


def test_an_uploaded_clip_is_kept_listed_and_usable(client: TestClient, speech_wav: Path) -> None:
    response = upload(client, speech_wav.read_bytes(), text="Hello there.", folder_path="scenes/one")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["message"] == "VC input 'line.wav' uploaded successfully"
    assert body["filename"] == "line.wav" and body["path"] == "scenes/one/line.wav"
    meta = body["metadata"]
    assert meta["text"] == "Hello there." and meta["folder_path"] == "scenes/one" and meta["format"] == "wav"
    assert meta["sample_rate"] == 22050 and meta["duration_seconds"] == pytest.approx(4.0, abs=1.0)
    assert (inputs_dir(client) / "scenes/one/line.wav").read_bytes() == speech_wav.read_bytes()
    assert json.loads((inputs_dir(client) / "scenes/one/line.wav.json").read_text())["text"] == "Hello there."

    page = client.get("/api/v1/vc_inputs").json()
    assert page["total_files"] == 1 and page["total_pages"] == 1
    [item] = page["files"]
    assert {k: item[k] for k in ("filename", "folder_path", "text", "format", "sample_rate")} == {
        "filename": "line.wav",
        "folder_path": "scenes/one",
        "text": "Hello there.",
        "format": "wav",
        "sample_rate": 22050,
    }
    assert "generation_type" not in item
    assert client.get("/api/v1/vc_inputs/scenes/one/line.wav").json() == item
    tree = client.get("/api/v1/vc_inputs/folders").json()
    assert tree["total_files"] == 1 and tree["folders"][0]["path"] == "scenes"
    converted = client.post(
        "/api/v1/vc?response_mode=url", json={"input_audio_source": body["path"], "export_formats": ["wav"]}
    )
    assert converted.status_code == 200, converted.text


def test_a_taken_name_is_409_unless_overwrite(client: TestClient, speech_wav: Path) -> None:
    assert upload(client, speech_wav.read_bytes(), text="first").status_code == 200
    again = upload(client, speech_wav.read_bytes(), text="second")
    assert again.status_code == 409, again.text
    assert again.json()["error"] == {
        "message": "'line.wav' already exists; send overwrite=true to replace it",
        "type": "conflict_error",
        "param": "vc_input_file",
        "code": "conflict",
    }
    replaced = upload(client, speech_wav.read_bytes()[:40000], text="second", overwrite="true")
    assert replaced.status_code == 200 and replaced.json()["metadata"]["text"] == "second"
    elsewhere = upload(client, speech_wav.read_bytes(), project="other")  # the same name, another folder
    assert elsewhere.status_code == 200 and elsewhere.json()["path"] == "other/line.wav"
    assert client.delete("/api/v1/vc_inputs/other/line.wav?confirm=true").json()["deleted_count"] == 1
    [item] = client.get("/api/v1/vc_inputs").json()["files"]
    assert item["text"] == "second" and item["file_size_bytes"] == 40000
    assert sorted(p.name for p in inputs_dir(client).iterdir() if p.is_file()) == [
        "line.wav",
        "line.wav.json",
    ]


@pytest.mark.parametrize(
    ("content", "fields", "status", "param"),
    [
        (b"not audio at all" * 10, {}, 400, "vc_input_file"),
        (b"", {}, 400, "vc_input_file"),
        (b"\0" * (2 * 2**20), {}, 413, "vc_input_file"),
        (None, {"folder_path": "a", "project": "b"}, 400, "project"),
        (None, {"overwrite": "perhaps"}, 400, "overwrite"),
    ],
)
def test_bad_uploads_name_the_field_and_leave_nothing(
    client: TestClient, speech_wav: Path, content: bytes | None, fields: dict, status: int, param: str
) -> None:
    response = upload(client, speech_wav.read_bytes() if content is None else content, **fields)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    assert [p for p in inputs_dir(client).rglob("*") if p.is_file()] == []
    assert client.get("/api/v1/vc_inputs").json()["total_files"] == 0


def test_a_missing_file_field_is_named(client: TestClient) -> None:
    response = client.post("/api/v1/vc_input", data={"text": "hi"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "vc_input_file"


def test_a_clip_kept_by_vc_is_listed(client: TestClient, speech_wav: Path) -> None:
    with speech_wav.open("rb") as audio:
        response = client.post(
            "/api/v1/vc?response_mode=url",
            data={"export_formats": "wav", "project": "kept"},
            files={"input_audio": ("take.opus.wav", audio, "audio/wav")},
        )
    assert response.status_code == 200, response.text
    [item] = client.get("/api/v1/vc_inputs?folder=kept").json()["files"]
    assert item["path"] == "kept/take.opus.wav" and item["sample_rate"] == 22050


def test_listing_filters_sort_and_deletes(client: TestClient, speech_wav: Path) -> None:
    root = inputs_dir(client)
    drop_audio(root / "short.wav", 0.5)
    drop_audio(root / "long.wav", 2.0)
    drop_audio(root / "takes" / "mid.flac", 1.0, fmt="flac")
    assert upload(client, speech_wav.read_bytes(), name="talk.wav", text="A dragon.").status_code == 200
    client.post("/api/v1/vc_inputs/rescan")
    by_length = [
        i["filename"] for i in client.get("/api/v1/vc_inputs?sort_by=duration&order=asc").json()["files"]
    ]
    assert by_length == ["short.wav", "mid.flac", "long.wav", "talk.wav"]
    assert [i["path"] for i in client.get("/api/v1/vc_inputs?search=dragon").json()["files"]] == ["talk.wav"]
    assert [i["path"] for i in client.get("/api/v1/vc_inputs?project=takes").json()["files"]] == [
        "takes/mid.flac"
    ]
    sort_type = client.get("/api/v1/vc_inputs?sort_by=generation_type")
    assert sort_type.status_code == 400 and sort_type.json()["error"]["param"] == "sort_by"
    no_type = client.get("/api/v1/vc_inputs?generation_type=tts")  # not a vc_inputs parameter: ignored
    assert no_type.json()["total_files"] == 4

    one = client.delete("/api/v1/vc_input/talk.wav?confirm=true").json()
    assert one["deleted_files"] == ["talk.wav", "talk.wav.json"] and one["deleted_count"] == 1
    assert not (root / "talk.wav.json").exists()
    refused = client.delete("/api/v1/vc_inputs?confirm=true")
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "all"
    preview = client.delete("/api/v1/vc_inputs?folder=takes&dry_run=true").json()
    assert preview["deleted_files"] == ["takes/mid.flac"] and (root / "takes" / "mid.flac").exists()
    done = client.delete("/api/v1/vc_inputs?folder=takes&confirm=true").json()
    assert done["removed_folders"] == ["takes"] and not (root / "takes").exists()
    assert client.delete("/api/v1/vc_inputs?filenames=short.wav&confirm=true").json()["deleted_count"] == 1
    rest = client.delete("/api/v1/vc_inputs?all=true&confirm=true").json()
    assert rest["deleted_files"] == ["long.wav"]
    assert client.get("/api/v1/vc_inputs").json()["files"] == []


def tiny_wav(samples: int, *, nan: bool = False) -> bytes:
    data = np.full(samples, 0.2, dtype=np.float32)
    if nan:
        data[0] = np.nan
    buffer = io.BytesIO()
    sf.write(buffer, data, 24000, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


@pytest.mark.parametrize(("samples", "nan", "words"), [(1, False, "at least"), (48000, True, "NaN")])
def test_a_one_sample_or_nan_input_is_a_400_not_a_model_crash(
    client: TestClient, samples: int, nan: bool, words: str
) -> None:
    (inputs_dir(client) / "bad.wav").write_bytes(tiny_wav(samples, nan=nan))
    voices = Path(client.app.state.settings.paths.voices_dir)
    voices.mkdir(parents=True, exist_ok=True)
    (voices / "narrator.wav").write_bytes(tiny_wav(48000))
    response = client.post(
        "/api/v1/vc", json={"input_audio_source": "bad.wav", "target_voice_source": "narrator"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "input_audio_source"
    assert words in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("samples", "nan", "words"), [(1, False, "at least"), (48000, True, "NaN|not finite")]
)
def test_the_vc_engine_refuses_a_one_sample_or_nan_target(
    tmp_path: Path, samples: int, nan: bool, words: str
) -> None:
    from engines.chatterbox_vc import _load

    path = tmp_path / "target.wav"
    path.write_bytes(tiny_wav(samples, nan=nan))
    with pytest.raises(InvalidRequestError, match=words) as caught:
        _load(path, 24000, "target_voice_source")
    assert caught.value.param == "target_voice_source" and str(tmp_path) not in caught.value.message
