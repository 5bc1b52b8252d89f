"""Falling back when Chatterbox weights are missing; loading, unloading and idle unload."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from tests.conftest import wait_until_ready


def test_missing_weights_fall_back_to_piper_and_say_why(
    make_settings: Callable[..., Settings], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "ckpt"
    empty.mkdir()
    (empty / "tokenizer.json").write_text("{}")
    settings = make_settings(models={"checkpoint_dir": str(empty)})
    with caplog.at_level(logging.INFO), TestClient(create_app(settings)) as client:
        health = wait_until_ready(client)
        assert health["status"] == "degraded"
        assert health["serving_engine"] == "piper"
        assert "ve.safetensors" in health["serving_reason"]
        spoken = client.post("/api/v1/tts", json={"text": "Still speaking."})
        assert spoken.status_code == 200 and spoken.headers["x-engine"] == "piper"
        named = client.post("/api/v1/tts", json={"text": "Hi.", "engine": "chatterbox"})
        assert named.status_code == 503
        assert "t3_cfg.safetensors" in named.json()["error"]["message"]
        models, engines = client.get("/api/v1/models").json(), client.get("/api/v1/engines").json()
    # the two listings tell the same story, each in its own words
    assert models["serving"] == engines["serving"] == "piper"
    assert models["default"] == engines["default"] == "chatterbox"
    states = {"ready": "loaded", "failed": "unavailable"}
    assert [(e["name"], states.get(e["state"], e["state"]), e["error"]) for e in models["engines"]] == [
        (e["name"], e["state"], e["reason"]) for e in engines["engines"]
    ]
    failed = next(e for e in engines["engines"] if e["name"] == "chatterbox")
    assert failed["state"] == "unavailable" and "ve.safetensors" in failed["reason"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for name in ("ve.safetensors", "t3_cfg.safetensors", "s3gen.safetensors"):
        assert f"lacks {name}" in logged
    assert "tokenizer.json" not in logged.split("lacks", 1)[1].split("\n")[0]
    assert "requests that name no engine are served by piper" in logged


def test_without_network_or_folder_the_reason_says_how_to_provide_weights(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(make_settings().paths.outputs_dir.parent / "hf"))
    with TestClient(create_app(make_settings())) as client:
        health = wait_until_ready(client)
    assert health["status"] == "degraded"
    assert "models.checkpoint_dir" in health["serving_reason"]
    assert "network" in health["serving_reason"]


def test_lazy_load_then_unload_and_load_again(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper"}, models={"load_on_startup": False}
    )
    with TestClient(create_app(settings)) as client:
        state = lambda: client.get("/api/v1/models").json()["engines"][0]["state"]  # noqa: E731
        assert state() == "unloaded"
        assert client.post("/api/v1/tts", json={"text": "Loaded on first use."}).status_code == 200
        assert state() == "ready"
        unloaded = client.post("/api/v1/models/unload", json={"engine": "piper"})
        assert unloaded.status_code == 200 and unloaded.json()["state"] == "unloaded"
        loaded = client.post("/api/v1/models/load", json={"engine": "piper"})
        assert loaded.status_code == 200 and loaded.json()["state"] == "ready"
        unknown = client.post("/api/v1/models/load", json={"engine": "kokoro"})
        assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "engine"


def test_idle_models_are_unloaded(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper"}, models={"idle_unload_seconds": 0.3}
    )
    with TestClient(create_app(settings)) as client:
        wait_until_ready(client)
        deadline = time.monotonic() + 10
        while client.get("/api/v1/models").json()["engines"][0]["state"] != "unloaded":
            assert time.monotonic() < deadline, "idle engine was never unloaded"
            time.sleep(0.1)
        assert client.post("/api/v1/tts", json={"text": "Back again."}).status_code == 200
