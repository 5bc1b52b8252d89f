"""Audio that used to crash or bloat the server, sent to every upload route: a correct result or a 4xx
naming the field, and nothing half-saved (no hidden ``.part`` file, nothing listed)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from tests.conftest import PIPER_ONLY, wait_until_ready
from utils.audio import decode


def wav(channels: int = 1, *, nan: bool = False, seconds: float = 1.2, rate: int = 24000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    data = np.zeros((len(t), channels), dtype=np.float32)
    data[:, 0] = 0.5 * np.sin(2 * np.pi * 330 * t)
    if nan:
        data[10, 0] = np.nan
    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format="WAV", subtype="FLOAT" if nan else "PCM_16")
    return buffer.getvalue()


@pytest.fixture
def setup(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, Settings]]:
    settings = make_settings(engines=PIPER_ONLY)
    with TestClient(create_app(settings)) as client:
        wait_until_ready(client)
        yield client, settings


def leftovers(settings: Settings) -> list[str]:
    """Hidden or temporary files in the data folders (the index and its journal aside)."""
    found = []
    for root in (settings.paths.voices_dir, settings.paths.vc_inputs_dir, settings.paths.outputs_dir):
        for path in Path(root).rglob("*"):
            if path.is_file() and (path.suffix == ".part" or path.name.startswith(("upload_", ".tmp"))):
                found.append(str(path))
    return found


def upload(client: TestClient, route: str, data: bytes, name: str = "clip.wav") -> tuple[int, dict, str]:
    """POST ``data`` to one of the upload routes; the status, the JSON answer and the field it went in."""
    if route == "voice":
        response = client.post("/api/v1/voice", files={"voice_file": (name, data, "audio/wav")})
        return response.status_code, response.json(), "voice_file"
    if route == "vc_input":
        response = client.post("/api/v1/vc_input", files={"vc_input_file": (name, data, "audio/wav")})
        return response.status_code, response.json(), "vc_input_file"
    request = {"segments": [{"type": "upload", "index": 0}], "export_formats": ["wav"]}
    response = client.post(
        "/api/v1/concat/mixed?response_mode=json",
        data={"request_json": json.dumps(request)},
        files=[("uploaded_files", (name, data, "audio/wav"))],
    )
    return response.status_code, response.json(), "uploaded_files[0]"


ROUTES = ["voice", "vc_input", "concat"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("channels", [8, 12])
def test_many_channel_uploads_are_mixed_down_not_a_crash(
    setup: tuple[TestClient, Settings], route: str, channels: int
) -> None:
    client, settings = setup
    status, body, _ = upload(client, route, wav(channels))
    assert status == 200, body
    assert client.get("/health").status_code == 200  # the server is still there
    assert leftovers(settings) == []
    if route == "concat":
        result = decode(client.get("/outputs/" + body["output_files"][0]).content)
        assert result.duration == pytest.approx(1.2, abs=0.01)
        assert float(np.abs(result.samples).max()) > 0.05  # the tone came through the mix-down


@pytest.mark.parametrize("route", ROUTES)
def test_nan_samples_are_a_400_naming_the_field_and_nothing_is_kept(
    setup: tuple[TestClient, Settings], route: str
) -> None:
    client, settings = setup
    status, body, field = upload(client, route, wav(1, nan=True), name="nan.wav")
    assert status == 400, body
    assert body["error"]["param"] == field
    assert "NaN" in body["error"]["message"]
    assert leftovers(settings) == []
    assert not any(Path(settings.paths.voices_dir).rglob("nan*"))
    assert not any(Path(settings.paths.vc_inputs_dir).rglob("nan*"))


def test_error_messages_show_no_server_path(setup: tuple[TestClient, Settings]) -> None:
    client, settings = setup
    status, body, _ = upload(client, "voice", b"RIFF\x00\x00\x00\x00WAVEjunk" * 10, name="broken.wav")
    assert status == 400
    text = json.dumps(body)
    for folder in (settings.paths.voices_dir, settings.paths.temp_dir, "/tmp"):
        assert str(folder) not in text
    assert ".part" not in text
