"""The UI's Gradio API reads no file on the server that a browser did not upload, and serves nothing
from disk but what Gradio cached for the page (never the index, config, or files outside the folders)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from tests.conftest import PIPER_ONLY, wait_until_ready


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings, Path]]:
    from config import load_settings

    root = tmp_path_factory.mktemp("ui_files")
    settings = load_settings(
        paths={name: str(root / name) for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")},
        piper={"voices_dir": str(root / "piper_voices")},
        engines=PIPER_ONLY,
        ui={"enabled": True},
    )
    outside = root / "outside"
    outside.mkdir()
    with TestClient(create_app(settings)) as client:
        wait_until_ready(client)
        yield client, settings, outside


def a_wav() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, (0.3 * np.sin(np.arange(24000) / 10)).astype(np.float32), 24000, format="WAV")
    return buffer.getvalue()


def call(client: TestClient, api_name: str, file_arg: dict[str, Any]) -> str:
    """Call a UI event the way Gradio's client does; the raw event stream of its answer."""
    info = client.get("/ui/gradio_api/info").json()["named_endpoints"][api_name]
    args: list[Any] = []
    for param in info["parameters"]:
        if param["component"] in ("Audio", "File"):
            args.append(file_arg)
        else:
            default = param.get("parameter_default")
            args.append("" if default is None and param["component"] == "Textbox" else default)
    started = client.post(f"/ui/gradio_api/call{api_name}", json={"data": args})
    assert started.status_code == 200, started.text
    return client.get(f"/ui/gradio_api/call{api_name}/{started.json()['event_id']}").text


def file_data(path: str) -> dict[str, Any]:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def test_a_server_path_given_as_a_file_argument_is_refused(ui: tuple[TestClient, Settings, Path]) -> None:
    client, settings, outside = ui
    secret = outside / "secret.wav"
    secret.write_bytes(a_wav())
    answer = call(client, "/add_voice", file_data(str(secret)))
    assert "event: error" in answer
    assert "not uploaded by a user" in answer
    assert not any(Path(settings.paths.voices_dir).rglob("secret*"))  # nothing copied into voices/
    answer = call(client, "/run", file_data("/etc/passwd"))  # voice conversion's input
    assert "event: error" in answer and "root:" not in answer


def test_an_uploaded_file_still_works(ui: tuple[TestClient, Settings, Path]) -> None:
    client, settings, _ = ui
    uploaded = client.post("/ui/gradio_api/upload", files={"files": ("mine.wav", a_wav(), "audio/wav")})
    assert uploaded.status_code == 200, uploaded.text
    [path] = uploaded.json()
    assert client.get(f"/ui/gradio_api/file={path}").status_code == 200  # Gradio's cache is served
    answer = call(client, "/add_voice", file_data(path))
    assert "event: complete" in answer, answer
    assert (Path(settings.paths.voices_dir) / "mine.wav").exists()


@pytest.mark.parametrize(
    "target",
    [
        "/etc/passwd",
        "{outputs}/.index.sqlite3",
        "{voices}/mine.wav.json",
        "{config}",
        "/proc/self/environ",
        "{outputs}/../outside/secret.wav",
        "http://127.0.0.1:9/x.wav",
    ],
)
def test_the_file_route_serves_nothing_outside_gradios_cache(
    ui: tuple[TestClient, Settings, Path], target: str
) -> None:
    client, settings, _ = ui
    (Path(settings.paths.outputs_dir) / ".index.sqlite3").touch(exist_ok=True)
    path = target.format(
        outputs=settings.paths.outputs_dir,
        voices=settings.paths.voices_dir,
        config=Path(__file__).resolve().parents[2] / "config.yaml",
    )
    for route in (f"/ui/gradio_api/file={path}", f"/ui/file={path}", f"/ui/gradio_api/file/{path}"):
        response = client.get(route)
        assert response.status_code in (403, 404), (route, response.status_code)
        assert b"root:" not in response.content and b"CHATTERBOX" not in response.content
        if response.status_code == 403:
            assert json.loads(response.content)["error"]["code"] == "forbidden"
