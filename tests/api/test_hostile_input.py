"""Request values that used to answer 500 (or worse): each is now a 400 naming the field, or a correct
result, and nothing is written for a refused request."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from utils.audio import decode


@pytest.fixture
def outputs(piper_client: TestClient) -> Path:
    return Path(piper_client.app.state.settings.paths.outputs_dir)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"text": "Hello\x00 there."}, "text", "control character"),
        ({"text": "Bell\x07 rings."}, "text", "control character"),
        ({"text": "Hi.", "project": "a" * 300}, "project", "255 bytes"),
        ({"text": "Hi.", "project": "/".join(["d"] * 1500)}, "project", "folders deep"),
        ({"text": "Hi.", "project": ".secret"}, "project", "hidden"),
        ({"text": "Hi.", "project": "book/.hidden/ch1"}, "project", "hidden"),
    ],
)
def test_hostile_tts_values_are_a_400_naming_the_field(
    piper_client: TestClient, outputs: Path, body: dict, param: str, words: str
) -> None:
    for route_body in (body, {**body, "stream": True}):
        response = piper_client.post("/api/v1/tts", json=route_body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param
        assert words in response.json()["error"]["message"]
    assert not [p for p in outputs.rglob("*") if p.suffix in {".wav", ".mp3", ".json"}]


def test_a_project_named_like_an_existing_output_is_a_400(piper_client: TestClient, outputs: Path) -> None:
    made = piper_client.post("/api/v1/tts?response_mode=json", json={"text": "First."})
    assert made.status_code == 200, made.text
    taken = made.json()["output_files"][0]["filename"]
    for body in ({"text": "Second.", "project": taken}, {"text": "Second.", "project": f"{taken}/sub"}):
        for stream in (False, True):
            response = piper_client.post("/api/v1/tts", json={**body, "stream": stream})
            assert response.status_code == 400, response.text
            assert response.json()["error"]["param"] == "project"


def test_a_project_in_any_script_works_with_several_formats(piper_client: TestClient) -> None:
    """Header values are Latin-1: the other formats' URLs are percent-encoded, and they resolve."""
    body = {"text": "Chapter one.", "project": "книга/глава 1", "export_formats": ["mp3", "wav"]}
    response = piper_client.post("/api/v1/tts", json=body)
    assert response.status_code == 200, response.text
    kind, url = response.headers["x-alternative-formats"].split(":", 1)
    assert kind == "wav" and unquote(url).startswith("/outputs/книга/глава 1/")
    assert decode(piper_client.get(url).content).duration > 0.3
    streamed = piper_client.post("/api/v1/tts", json={**body, "stream": True})
    assert streamed.status_code == 200 and decode(streamed.content).duration > 0.3


@pytest.mark.parametrize("name", ["CON", "nul.wav", "Aux.mp3", ".hidden", "a" * 252 + ".x"])
def test_concat_refuses_reserved_hidden_and_overlong_output_names(
    piper_client: TestClient, name: str
) -> None:
    response = piper_client.post("/api/v1/concat", json={"files": ["(1s)"], "output_filename": name})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "output_filename"
