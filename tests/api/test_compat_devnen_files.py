"""devnen/Chatterbox-TTS-Server clients: its uploads, file lists and settings routes, replayed as its UI sends.

ui/script.js posts ``FormData`` with each file under ``files`` to ``/upload_reference`` (clone clips) and
``/upload_predefined_voice``, reads ``uploaded_files``, ``all_reference_files`` /
``all_predefined_voices`` and ``errors``; fills its lists from ``/get_reference_files`` and
``/get_predefined_voices``; saves settings with JSON to ``/save_settings`` and ``/reset_settings``.
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
