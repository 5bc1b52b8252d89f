"""Health, request ids, access logs, Prometheus metrics and the effective config."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.piper import PiperEngine
from main_api import create_app


def test_health_reports_engine_device_memory_uptime_and_queue(piper_client: TestClient) -> None:
    for path in ("/health", "/api/v1/health"):
        response = piper_client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "healthy"
        assert body["serving_engine"] == "piper" and body["serving_reason"] is None
        assert body["models_loaded"] == {"tts": True, "vc": False}
        assert body["engines"][0]["device"] == "cpu"
        assert body["system_info"]["memory"]["rss_mb"] > 0
        assert body["uptime_seconds"] >= 0 and body["queue_depth"] == 0
        assert body["error_summary"] is None
        assert set(body["resource_status"]["directories"]) == {"outputs", "voices", "vc_inputs"}


def test_health_counts_requests_and_output_files(piper_client: TestClient) -> None:
    piper_client.post("/api/v1/tts", json={"text": "One file."})
    piper_client.post("/api/v1/tts", json={"text": ""})
    body = piper_client.get("/health").json()
    assert body["metrics"]["total_requests"] == 2  # health probes are not counted
    assert body["metrics"]["successful_requests"] == 1
    assert body["metrics"]["client_errors"] == 1
    outputs = body["resource_status"]["directories"]["outputs"]
    assert outputs["file_count"] == 3 and outputs["size_bytes"] > 1000  # wav, mp3 (Plus's default) + metadata


def test_request_id_is_echoed_or_made(piper_client: TestClient) -> None:
    assert (
        piper_client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    )
    made = piper_client.get("/health").headers["x-request-id"]
    assert len(made) == 32


def test_one_access_log_line_per_request(piper_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="chatterbox.access"):
        piper_client.get("/api/v1/config", headers={"X-Request-ID": "log-me"})
    lines = [r for r in caplog.records if r.name == "chatterbox.access"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status, line.request_id) == ("GET", "/api/v1/config", 200, "log-me")
    assert line.duration_ms >= 0


def test_metrics_count_requests_and_audio(piper_client: TestClient) -> None:
    piper_client.post("/api/v1/tts", json={"text": "Counting this."})
    text = piper_client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/api/v1/tts",status="200"} 1.0' in text
    assert "http_request_duration_seconds_bucket" in text
    audio = next(line for line in text.splitlines() if line.startswith('audio_seconds_total{engine="piper"}'))
    assert float(audio.split()[-1]) > 0.3
    assert 'real_time_factor_count{engine="piper"} 1.0' in text
    assert 'generation_seconds_count{engine="piper"} 1.0' in text


def test_config_endpoint_shows_effective_values_without_secrets(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATTERBOX_MODELS__HF_TOKEN", "hf_do_not_leak")
    monkeypatch.setenv("CHATTERBOX_LIMITS__MAX_TEXT_LENGTH", "1234")
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper"})
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/config")
    assert response.status_code == 200
    assert response.json()["limits"]["max_text_length"] == 1234
    assert "hf_do_not_leak" not in response.text and "hf_token" not in response.text


class _SlowPiper(PiperEngine):
    """Real Piper whose load waits for the test's signal."""

    def __init__(self, *args: Any, gate: threading.Event) -> None:
        super().__init__(*args)
        self.gate = gate

    def load(self) -> None:
        self.gate.wait(30)
        super().load()


def test_health_is_503_while_the_serving_engine_loads(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    gate = threading.Event()
    engine = CoreEngine(settings, engines={"piper": _SlowPiper(settings.piper, gate=gate)})
    with TestClient(create_app(settings, engine=engine)) as client:
        loading = client.get("/health")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        gate.set()
        response = client.post("/api/v1/tts", json={"text": "Waited for the load."})  # queued behind the load
        assert response.status_code == 200
        assert client.get("/health").status_code == 200


def test_docs_are_served(piper_client: TestClient, tmp_path: Path) -> None:
    assert piper_client.get("/docs").status_code == 200
    schema = piper_client.get("/openapi.json").json()
    body = schema["paths"]["/api/v1/tts"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["properties"]["text"]["description"]
    assert body["multipart/form-data"]["schema"]["properties"]["reference_audio"]["format"] == "binary"
