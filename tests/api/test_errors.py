"""Every error answers in one shape that names the field and the problem."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from tests.conftest import PIPER_ONLY


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["detail"] == body["error"]["message"]  # readable for old Plus clients
    return body["error"]


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        ({"text": ""}, "text", "empty"),
        ({"text": "   \n\t"}, "text", "empty"),
        ({}, "text", "Field required"),
        ({"text": "Hi.", "engine": "kokoro"}, "engine", "kokoro"),
        ({"text": "Hi.", "exaggeration": 7}, "exaggeration", "less than or equal to 2"),
        ({"text": "Hi.", "seed": -1}, "seed", "greater than or equal to 0"),
    ],
)
def test_bad_tts_input_is_400_naming_the_field(
    piper_client: TestClient, body: dict, param: str, fragment: str
) -> None:
    response = piper_client.post("/api/v1/tts", json=body)
    assert response.status_code == 400, response.text
    error = _error(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert fragment in error["message"]


def test_text_over_the_limit_is_400(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(engines=PIPER_ONLY, limits={"max_text_length": 20})
    with TestClient(create_app(settings)) as client:
        error = _error(client.post("/api/v1/tts", json={"text": "x" * 21}))
    assert error["param"] == "text" and error["code"] == "string_above_max_length"


def test_malformed_json_is_400(piper_client: TestClient) -> None:
    response = piper_client.post(
        "/api/v1/tts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_json"


def test_a_disabled_engine_is_503_with_the_reason(piper_client: TestClient) -> None:
    response = piper_client.post("/api/v1/tts", json={"text": "Hi.", "engine": "chatterbox"})
    assert response.status_code == 503
    error = _error(response)
    assert error["param"] == "engine" and "engines.enabled" in error["message"]


def test_a_vc_engine_cannot_read_text(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        engines={"enabled": ["piper", "chatterbox-vc"], "default": "piper"}, models={"load_on_startup": False}
    )
    with TestClient(create_app(settings)) as client:
        error = _error(client.post("/api/v1/tts", json={"text": "Hi.", "engine": "chatterbox-vc"}))
    assert error["param"] == "engine" and "/api/v1/vc" in error["message"]


def test_unknown_route_uses_the_same_shape(piper_client: TestClient) -> None:
    response = piper_client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert _error(response)["type"] == "not_found_error"


def test_an_unexpected_exception_is_500_with_the_request_id_and_a_logged_traceback(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(engines=PIPER_ONLY))

    async def explode() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/explode", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-42"
    error = _error(response)
    assert error["type"] == "server_error" and "req-42" in error["message"]
    assert "kaboom" not in error["message"]  # internals stay in the log
    logged = [r for r in caplog.records if r.exc_info and "kaboom" in str(r.exc_info[1])]
    assert logged and logged[0].request_id == "req-42"


def test_vc_without_an_input_is_400_even_when_vc_cannot_run(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper"})
    with TestClient(create_app(settings)) as client:
        error = _error(client.post("/api/v1/vc", json={"target_voice_source": "narrator"}))
    assert error["param"] == "input_audio_source"


@pytest.mark.parametrize(
    ("route", "body", "param"),
    [
        ("/api/v1/vc", {"input_audio_source": "interview.wav"}, "input_audio_source"),
        ("/api/v1/tts", {"text": "Hi.", "reference_audio_filename": "nobody.wav"}, "voice"),
    ],
)
def test_a_missing_file_is_404_without_the_servers_paths(
    piper_client: TestClient, route: str, body: dict, param: str
) -> None:
    response = piper_client.post(route, json=body)
    assert response.status_code == 404, response.text
    error = _error(response)
    assert error["param"] == param
    folders = piper_client.app.state.settings.paths  # type: ignore[attr-defined]
    for folder in (folders.voices_dir, folders.vc_inputs_dir):
        assert str(folder) not in response.text and str(folder.resolve()) not in response.text
