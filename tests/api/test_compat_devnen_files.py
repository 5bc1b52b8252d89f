"""devnen/Chatterbox-TTS-Server clients: its uploads, file lists and settings routes, replayed as its UI sends.

ui/script.js posts ``FormData`` with each file under ``files`` to ``/upload_reference`` (clone clips) and
``/upload_predefined_voice``, reads ``uploaded_files``, ``all_reference_files`` /
``all_predefined_voices`` and ``errors``; fills its lists from ``/get_reference_files`` and
``/get_predefined_voices``; saves settings with JSON to ``/save_settings`` and ``/reset_settings``;
loads its page from ``/api/ui/initial-data``; posts ``/api/unload`` and ``/restart_server``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from tests.support.compat import CLONING, start, tone_wav
from tests.support.engines import ToneEngine


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, ToneEngine, Path]]:
    engine = ToneEngine(clones_voices=True)
    settings = make_settings(engines=CLONING)
    with start(settings, {"chatterbox": engine}) as client:
        yield client, engine, Path(settings.paths.voices_dir)


def test_upload_reference_then_clone_with_it(served: tuple[TestClient, ToneEngine, Path]) -> None:
    client, engine, voices = served
    files = [
        ("files", ("Gianna.wav", tone_wav(2.0), "audio/wav")),
        ("files", ("notes.wav", b"not audio", "audio/wav")),
    ]
    answer = client.post("/upload_reference", files=files)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["message"] == "Processed 2 file(s)."
    assert body["uploaded_files"] == ["Gianna.wav"] and body["all_reference_files"] == ["Gianna.wav"]
    assert [error["filename"] for error in body["errors"]] == ["notes.wav"]
    assert (voices / "Gianna.wav").is_file() and not (voices / "notes.wav").exists()
    assert client.get("/get_reference_files").json() == ["Gianna.wav"]

    clone = {"text": "Cloned.", "voice_mode": "clone", "reference_audio_filename": "Gianna.wav"}
    spoken = client.post("/tts", json=clone)
    assert spoken.status_code == 200 and engine.voices_heard[-1].name == "Gianna.wav"

    # a name already there is kept, not replaced, and counted as uploaded (as devnen does)
    before = (voices / "Gianna.wav").read_bytes()
    again = client.post("/upload_reference", files=[("files", ("Gianna.wav", tone_wav(1.0), "audio/wav"))])
    assert again.status_code == 200 and again.json()["uploaded_files"] == ["Gianna.wav"]
    assert (voices / "Gianna.wav").read_bytes() == before


def test_upload_predefined_voice_lists_display_names(served: tuple[TestClient, ToneEngine, Path]) -> None:
    client, _, _ = served
    files = [("files", ("robert_smith.wav", tone_wav(2.0), "audio/wav"))]
    body = client.post("/upload_predefined_voice", files=files).json()
    assert body["message"] == "Processed 1 predefined voice file(s)."
    expected = [{"display_name": "Robert Smith", "filename": "robert_smith.wav"}]
    assert body["all_predefined_voices"] == expected and body["errors"] == []
    assert client.get("/get_predefined_voices").json() == expected


def test_upload_with_nothing_stored_is_a_400_naming_files(
    served: tuple[TestClient, ToneEngine, Path],
) -> None:
    client, _, voices = served
    answer = client.post("/upload_reference", files=[("files", ("x.wav", b"RIFF junk", "audio/wav"))])
    assert answer.status_code == 400
    body = answer.json()
    assert body["uploaded_files"] == [] and body["errors"][0]["filename"] == "x.wav"
    assert body["error"]["param"] == "files" and "x.wav" in body["detail"]
    assert not any(voices.glob("x*"))
    missing = client.post("/upload_reference")
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "files"


@pytest.mark.parametrize("route", ["/save_settings", "/reset_settings"])
def test_settings_routes_refuse_and_say_where_settings_live(
    served: tuple[TestClient, ToneEngine, Path], route: str
) -> None:
    client, _, _ = served
    answer = client.post(route, json={"generation_defaults": {"temperature": 0.5}})
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "settings_read_only" and "config.yaml" in error["message"]
    assert client.get("/api/v1/config").json()["generation"]["temperature"] == 0.8  # unchanged


def _state(client: TestClient, name: str) -> str:
    return next(e["state"] for e in client.get("/api/v1/models").json()["engines"] if e["name"] == name)


def test_ui_initial_data_is_filled_from_our_state(served: tuple[TestClient, ToneEngine, Path]) -> None:
    """ui/script.js reads config.generation_defaults, config.ui_state, config.ui, config.tts_engine,
    config.audio_output, reference_files, predefined_voices, presets and model_info."""
    client, _, _ = served
    client.post("/upload_reference", files=[("files", ("my_voice.wav", tone_wav(2.0), "audio/wav"))])
    data = client.get("/api/ui/initial-data").json()
    config = data["config"]
    assert config["generation_defaults"]["temperature"] == 0.8
    assert config["generation_defaults"]["cfg_weight"] == 0.5
    assert config["generation_defaults"]["language"] == "en"
    assert config["ui_state"]["last_voice_mode"] == "predefined" and config["ui"]["title"]
    assert config["audio_output"]["format"] == "wav" and config["tts_engine"]["default_voice_id"] is None
    assert data["reference_files"] == ["my_voice.wav"]
    assert data["predefined_voices"] == [{"display_name": "My Voice", "filename": "my_voice.wav"}]
    assert data["presets"] == [] and data["initial_gen_result"]["outputUrl"] is None
    model = data["model_info"]
    assert (model["type"], model["class_name"], model["supports_multilingual"]) == (
        "original",
        "chatterbox",
        False,
    )
    assert model["supported_languages"] == {"en": "English"}


def test_unload_frees_the_engines_and_restart_reloads_the_serving_one(
    served: tuple[TestClient, ToneEngine, Path],
) -> None:
    """script.js posts /api/unload and /restart_server with no body and reads `status` / `message`."""
    client, engine, _ = served
    assert client.post("/tts", json={"text": "Load it."}).status_code == 200
    assert _state(client, "chatterbox") == "ready" and engine.loaded
    unloaded = client.post("/api/unload")
    assert unloaded.status_code == 200 and unloaded.json() == {"status": "unloaded"}
    assert _state(client, "chatterbox") == "unloaded" and not engine.loaded
    assert client.get("/api/ui/initial-data").json()["model_info"]["loaded"] is False
    restarted = client.post("/restart_server")
    assert restarted.status_code == 200, restarted.text
    assert restarted.json() == {
        "message": "Model hot-swap successful. Now running: chatterbox (original)",
        "restart_needed": False,
    }
    assert _state(client, "chatterbox") == "ready" and engine.loaded
    assert client.post("/tts", json={"text": "Still speaks."}).status_code == 200
