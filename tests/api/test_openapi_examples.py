"""Swagger UI's "Try it out" sends each request body's example as it is: every one must work.

The server is in the state the README walkthrough leaves (a voice `narrator`, a clip `line.wav`), with
Chatterbox down for want of weights: examples that need it answer the 503 that says so; the rest succeed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config import load_settings
from main_api import create_app
from tests.conftest import wait_until_ready

# Path parameters as the walkthrough's state names them.
PATH_VALUES = {"profile_id": "narrator-calm", "path": "narrator.wav"}
NEEDS_CHATTERBOX = {("post", "/api/v1/vc"), ("post", "/api/v1/emotions/{profile_id}/test")}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, speech_wav: Any) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("examples")
    (root / "ckpt").mkdir()
    settings = load_settings(
        paths={f"{name}_dir": str(root / name) for name in ("voices", "outputs", "vc_inputs", "temp")},
        piper={"voices_dir": str(root / "piper_voices")},
        models={"checkpoint_dir": str(root / "ckpt")},
        ui={"enabled": False},
    )
    with TestClient(create_app(settings)) as client:
        wait_until_ready(client)
        audio = speech_wav.read_bytes()
        assert client.post(
            "/api/v1/voice", data={"name": "narrator"}, files={"voice_file": ("narrator.wav", audio)}
        ).is_success
        assert client.post("/api/v1/vc_input", files={"vc_input_file": ("line.wav", audio)}).is_success
        yield client


def _examples(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            schema = body["schema"]
            schema = next((s for s in schema.get("anyOf", []) if "$ref" in s), schema)
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            assert schema.get("examples"), f"{method.upper()} {path} has no example body"
            found.append((method, path, schema["examples"][0]))
    return found


def test_every_request_example_works_as_it_is(client: TestClient) -> None:
    examples = _examples(client.get("/openapi.json").json())
    order = {"/api/v1/emotions": 0}  # the profile the other emotion examples name is made first
    examples.sort(key=lambda e: order.get(e[1], 1))
    assert len(examples) >= 10
    for method, path, body in examples:
        url = path.format(**PATH_VALUES)
        response = client.request(method, url, json=body)
        if (method, path) in NEEDS_CHATTERBOX:
            assert response.status_code == 503, (method, path, response.text)
            assert "chatterbox" in response.json()["error"]["message"]
        else:
            assert response.is_success, (method, path, response.text)


def test_operation_summaries_are_unique_and_tags_described(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    summaries = [op["summary"] for item in document["paths"].values() for op in item.values()]
    assert len(summaries) == len(set(summaries))
    described = {tag["name"] for tag in document["tags"] if tag.get("description")}
    used = {tag for item in document["paths"].values() for op in item.values() for tag in op.get("tags", [])}
    assert used <= described
