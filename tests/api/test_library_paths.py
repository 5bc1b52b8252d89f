"""Every path-taking field of the outputs and vc_inputs endpoints refuses names that escape its folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from config import Settings
from tests.api.test_outputs_library import drop_audio, start

CORPUS = [
    "../secret.wav",
    "a/../../secret.wav",
    "/etc/passwd",
    "..\\secret.wav",
    "%2e%2e/secret.wav",
    "%2E%2E%2Fsecret.wav",
    "%252e%252e%252fsecret.wav",
    "..%2fsecret.wav",
    "C:\\secret.wav",
    "c:secret.wav",
    "secret\x00.wav",
    "line\nbreak.wav",
    "CON",
    "nul.wav",
    "a/COM1.txt",
    "\\\\server\\share\\secret.wav",
]


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with start(settings) as client:
        yield client


@pytest.fixture
def settings(make_settings) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})


@pytest.fixture(autouse=True)
def secret(tmp_path: Path) -> Iterator[Path]:
    """A file next to the data folders: nothing may reach it."""
    path = tmp_path / "secret.wav"
    drop_audio(path, 0.5)
    before = path.read_bytes()
    yield path
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", CORPUS)
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/api/v1/outputs/{}"),
        ("DELETE", "/api/v1/output/{}?confirm=true"),
        ("DELETE", "/api/v1/outputs/{}?confirm=true"),
        ("GET", "/api/v1/vc_inputs/{}"),
        ("DELETE", "/api/v1/vc_input/{}?confirm=true"),
        ("DELETE", "/api/v1/vc_inputs/{}?confirm=true"),
    ],
)
def test_path_parameters_refuse_escapes(client: TestClient, method: str, template: str, name: str) -> None:
    response = client.request(method, template.format(quote(name, safe="")))
    if "\n" in name:  # Starlette's path routes never match a line break: no route, a plain 404
        assert response.status_code == 404 and response.json()["error"]["param"] is None
        return
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "path"


@pytest.mark.parametrize("name", CORPUS)
@pytest.mark.parametrize("field", ["folder", "project", "filenames"])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/outputs"),
        ("DELETE", "/api/v1/outputs?confirm=true"),
        ("GET", "/api/v1/vc_inputs"),
        ("DELETE", "/api/v1/vc_inputs?confirm=true"),
    ],
)
def test_query_fields_refuse_escapes(
    client: TestClient, method: str, url: str, field: str, name: str
) -> None:
    response = client.request(method, url, params={field: name})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == field


@pytest.mark.parametrize("name", CORPUS)
@pytest.mark.parametrize("field", ["folder_path", "project"])
def test_upload_folders_refuse_escapes(client: TestClient, speech_wav: Path, field: str, name: str) -> None:
    response = client.post(
        "/api/v1/vc_input", data={field: name}, files={"vc_input_file": ("x.wav", speech_wav.read_bytes())}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == field


@pytest.mark.parametrize(
    ("filename", "kept_as"),
    [("../../secret.wav", "secret.wav"), ("..\\..\\secret.wav", "secret.wav"), (".hidden.wav", "hidden.wav")],
)
def test_an_upload_name_loses_its_folders(
    client: TestClient, speech_wav: Path, tmp_path: Path, filename: str, kept_as: str
) -> None:
    response = client.post("/api/v1/vc_input", files={"vc_input_file": (filename, speech_wav.read_bytes())})
    assert response.status_code == 200, response.text
    assert response.json()["path"] == kept_as
    assert (Path(client.app.state.settings.paths.vc_inputs_dir) / kept_as).is_file()


def test_a_reserved_upload_name_is_refused(client: TestClient, speech_wav: Path) -> None:
    response = client.post("/api/v1/vc_input", files={"vc_input_file": ("CON.wav", speech_wav.read_bytes())})
    assert response.status_code == 400 and response.json()["error"]["param"] == "vc_input_file"


def test_a_symlink_out_of_the_folder_is_neither_listed_nor_served(client: TestClient, secret: Path) -> None:
    outputs = Path(client.app.state.settings.paths.outputs_dir)
    (outputs / "link.wav").symlink_to(secret)
    (outputs / "linked_dir").symlink_to(secret.parent, target_is_directory=True)
    client.post("/api/v1/outputs/rescan")
    assert client.get("/api/v1/outputs").json()["total_files"] == 0
    assert client.get("/api/v1/outputs/link.wav").status_code == 400
    assert client.get("/outputs/link.wav").status_code == 400
    assert client.delete("/api/v1/output/linked_dir/secret.wav?confirm=true").status_code == 400
