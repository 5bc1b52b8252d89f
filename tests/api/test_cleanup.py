"""POST /api/v1/cleanup, GET /api/v1/cleanup/status, GET /api/v1/resources, and the early 413."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import ToneEngine
from utils.audio import Clip, encode, get_format

OLD = time.time() - 2 * 3600


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        housekeeping={"on_start": False, "interval_hours": 2},
        limits={"max_upload_mb": 2},
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    engine = CoreEngine(settings, engines={"tone": ToneEngine()})
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def place(path: Path, data: bytes | None = None) -> Path:
    """A file put in a folder behind the server's back, two hours ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = encode(Clip(np.zeros(12000, dtype=np.float32), 24000), get_format("wav"))
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))
    return path


def actions(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(a["library"], a["path"], a["reason"]) for a in body["actions"]}


def test_cleanup_removes_bad_files_and_reports_them(client: TestClient, settings: Settings) -> None:
    paths = settings.paths
    made = client.post(
        "/api/v1/tts?response_mode=url",
        json={"text": "Keep me.", "engine": "tone", "export_formats": ["wav"]},
    ).json()["output_files"][0]["filename"]
    place(paths.outputs_dir / "book" / "tts_empty.wav", b"")
    place(paths.voices_dir / "team" / "broken.wav", b"RIFF\x00\x00\x00\x00WAVEnope")
    place(paths.vc_inputs_dir / "a" / "b" / "zero.mp3", b"")
    expected = {
        ("outputs", "book/tts_empty.wav", "empty"),
        ("voices", "team/broken.wav", "unreadable"),
        ("vc_inputs", "a/b/zero.mp3", "empty"),
    }

    assert client.post("/api/v1/outputs/rescan").json()["added"] == 1

    dry = client.post("/api/v1/cleanup?dry_run=true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and actions(dry.json()) == expected
    assert (paths.outputs_dir / "book" / "tts_empty.wav").exists()
    assert client.get("/api/v1/outputs/tts_empty.wav").status_code == 200  # still listed

    body = client.post("/api/v1/cleanup").json()
    assert actions(body) == expected
    assert body["total_files_removed"] == 3 and body["forced"] is True and body["trigger"] == "request"
    assert body["total_bytes_freed"] == sum(a["bytes"] for a in body["actions"]) > 0
    assert {"timestamp", "start_time", "end_time", "duration_seconds"} <= body.keys()
    assert not (paths.voices_dir / "team" / "broken.wav").exists()
    # the good output and the index survive; the index forgot the removed file
    listing = client.get("/api/v1/outputs").json()
    assert [f["path"] for f in listing["files"]] == [made]
    assert client.get("/api/v1/outputs/tts_empty.wav").status_code == 404
    assert paths.index_path.exists()
    assert client.post("/api/v1/cleanup").json()["actions"] == []


def test_status_shows_the_schedule_and_recent_runs(client: TestClient) -> None:
    status = client.get("/api/v1/cleanup/status").json()
    scheduler = status["scheduler"]
    assert scheduler["enabled"] is True and scheduler["running"] is True
    assert scheduler["cleanup_interval_hours"] == 2 and scheduler["last_cleanup_time"] is None
    assert scheduler["next_cleanup_time"] is not None and status["history"] == []
    for _ in range(7):
        client.post("/api/v1/cleanup?dry_run=true")
    history = client.get("/api/v1/cleanup/status").json()["history"]
    assert len(history) == 5 and all(run["dry_run"] for run in history)
    assert client.get("/api/v1/cleanup/status").json()["scheduler"]["last_cleanup_time"]


def test_a_cleanup_runs_at_start(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    place(settings.paths.outputs_dir / "p" / "empty.wav", b"")
    with TestClient(
        create_app(settings, engine=CoreEngine(settings, engines={"tone": ToneEngine()}))
    ) as client:
        deadline = time.monotonic() + 10
        while not (history := client.get("/api/v1/cleanup/status").json()["history"]):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert history[0]["trigger"] == "start" and actions(history[0]) == {("outputs", "p/empty.wav", "empty")}


def test_resources_reports_each_folder(client: TestClient, settings: Settings) -> None:
    place(settings.paths.vc_inputs_dir / "x.wav")
    body = client.get("/api/v1/resources").json()
    assert set(body["directories"]) == {"outputs", "voices", "vc_inputs", "temp"}
    assert body["directories"]["vc_inputs"]["file_count"] == 1 and body["warnings"] == []


def test_a_declared_oversize_upload_is_refused_before_its_body_is_read(client: TestClient) -> None:
    app = client.app
    received = []

    async def receive() -> dict[str, Any]:
        received.append(True)
        raise AssertionError("the body was read")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/api/v1/tts",
        "raw_path": b"/api/v1/tts",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("test", 80),
        "client": ("test", 1),
        "headers": [
            (b"host", b"testserver"),  # every HTTP/1.1 request names its host (the Host check reads it)
            (b"content-type", b"multipart/form-data; boundary=x"),
            (b"content-length", str(500 * 2**20).encode()),
        ],
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert not received
    assert sent[0]["status"] == 413
    assert b"file_too_large" in sent[1]["body"] and b"limits.max_upload_mb" in sent[1]["body"]


@pytest.mark.parametrize(
    ("route", "size_mb", "status"),
    [
        ("/api/v1/vc_input", 50, 413),
        ("/api/v1/concat", 30, 400),  # 20 files' worth is allowed: the route itself answers
        ("/api/v1/concat", 60, 413),
        ("/api/v1/health", 500, 413),  # not an upload route: the JSON body bound (security.max_json_kb)
        ("/api/v1/voices/import", 500, None),  # a zip import: its own, larger limit
    ],
)
def test_the_early_limit_depends_on_the_route(
    client: TestClient, route: str, size_mb: int, status: int | None
) -> None:
    response = client.post(
        route,
        content=b"x",
        headers={"Content-Length": str(size_mb * 2**20), "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == status if status else response.status_code != 413, response.text
