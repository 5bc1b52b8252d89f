"""Plus scripts: its admin routes, its config keys, its error fields and its defaults, as its docs call them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from config import Settings
from tests.support.compat import CLONING, start


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with start(make_settings(engines=CLONING)) as client:
        yield client


def test_errors_recent_and_summary_carry_request_ids(client: TestClient) -> None:
    assert client.get("/api/v1/errors/summary").json()["total_errors"] == 0
    bad = client.post("/api/v1/tts", json={"text": "Hi.", "temperature": 99})
    missing = client.get("/api/v1/voices/nobody.wav")
    assert (bad.status_code, missing.status_code) == (400, 404)
    recent = client.get("/api/v1/errors/recent", params={"count": 10}).json()
    assert recent["total_stored"] == 2
    newest, older = recent["recent_errors"]
    assert newest["request_id"] == missing.headers["x-request-id"] and newest["status"] == 404
    assert older["request_id"] == bad.headers["x-request-id"] and older["param"] == "temperature"
    summary = client.get("/api/v1/errors/summary").json()
    assert summary["total_errors"] == 2
    assert summary["by_severity"] == {"client": 2}
    assert summary["by_category"] == {"invalid_request_error": 1, "not_found_error": 1}
    assert summary["by_operation"]["POST /api/v1/tts"] == 1
    assert summary["unresolved_count"] == 0
    assert len(summary["recent_errors"]) == 2
    too_many = client.get("/api/v1/errors/recent", params={"count": 0})
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "count"


def test_metrics_json_counts_requests(client: TestClient) -> None:
    spoken = client.post(
        "/api/v1/tts?response_mode=url", json={"text": "Count me.", "export_formats": ["wav"]}
    )
    assert spoken.status_code == 200, spoken.text
    metrics = client.get("/api/v1/metrics").json()
    assert metrics["performance"]["processing_times"]["count"] == 1
    assert metrics["performance"]["processing_times"]["avg_ms"] >= 0
    assert metrics["performance"]["response_times"]["count"] >= 1
    assert metrics["system"]["memory"]["rss_mb"] > 0
    assert metrics["requests"]["total_requests"] >= 1
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")  # Prometheus stays


def test_config_has_plus_keys(client: TestClient) -> None:
    config = client.get("/api/v1/config").json()
    assert config["tts_defaults"]["temperature"] == 0.8 and config["tts_defaults"]["cfg_weight"] == 0.5
    assert config["tts_defaults"]["disable_watermark"] is False
    assert config["vc_defaults"]["chunk_sec"] == 60
    assert {"wav", "mp3", "flac"} <= set(config["supported_formats"])
    assert config["api_limits"]["max_text_length"] == 10_000
    assert config["generation"]["temperature"] == 0.8  # our own keys stay


def test_plus_error_fields_on_request_or_by_setting(
    client: TestClient, make_settings: Callable[..., Settings]
) -> None:
    plain = client.get("/api/v1/voices/nobody.wav").json()
    assert "success" not in plain and plain["error"]["param"] == "path"
    for answer in (
        client.get("/api/v1/voices/nobody.wav", params={"compat": "plus"}),
        client.get("/api/v1/voices/nobody.wav", headers={"X-Compat": "plus"}),
    ):
        body = answer.json()
        assert answer.status_code == 404
        assert body["success"] is False and body["error_code"] == "RESOURCE_NOT_FOUND"
        assert body["detail"] == body["error"]["message"] and body["timestamp"]
        assert int(answer.headers["content-length"]) == len(answer.content)
    with start(make_settings(engines=CLONING, compat={"error_fields": True})) as always:
        body = always.post("/api/v1/tts", json={"text": ""}).json()
        assert body["success"] is False and body["error_code"] == "VALIDATION_ERROR"
        assert body["error"]["param"] == "text"
        audio = always.post("/v1/audio/speech", json={"input": "Fine.", "response_format": "wav"})
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"  # answers that are not errors pass


def test_plus_defaults_setting(make_settings: Callable[..., Settings]) -> None:
    with start(make_settings(engines=CLONING, compat={"plus_defaults": True})) as client:
        defaults = client.get("/api/v1/config").json()["tts_defaults"]
        assert (defaults["temperature"], defaults["cfg_weight"], defaults["disable_watermark"]) == (
            0.75,
            1.0,
            True,
        )
        result = client.post(
            "/api/v1/tts?response_mode=url", json={"text": "Defaults.", "export_formats": ["wav"]}
        )
        assert result.status_code == 200, result.text
        record = client.get(
            f"/api/v1/outputs/{result.json()['output_files'][0]['url'].removeprefix('/outputs/')}"
        )
        assert record.status_code == 200, record.text
        parameters = record.json()["metadata"]["parameters"]
        assert parameters["temperature"] == 0.75 and parameters["cfg_weight"] == 1.0
    kept = make_settings(compat={"plus_defaults": True}, generation={"temperature": 0.9})
    assert kept.generation.temperature == 0.9 and kept.generation.cfg_weight == 1.0  # a changed key stays
