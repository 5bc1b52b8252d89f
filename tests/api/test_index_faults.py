"""A PostgreSQL index that goes away mid-run: listings answer 503 with the reason, speech goes on."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import ToneEngine
from tests.support.postgres import PostgresServer

TONE_ONLY = {"enabled": ["piper"], "default": "piper", "fallback": None}


def speak(client: TestClient, text: str) -> tuple[str, bytes]:
    """A saved output: its file name (in outputs/) and the audio the response carried."""
    response = client.post(
        "/api/v1/tts?response_mode=url",
        json={"text": text, "engine": "tone", "export_formats": ["wav"]},
    )
    assert response.status_code == 200, response.text
    [saved] = response.json()["output_files"]
    audio = client.get(saved["url"])
    assert audio.status_code == 200
    return saved["filename"], audio.content


def test_listings_are_503_with_the_reason_while_generation_still_saves_audio(
    postgres_server: PostgresServer,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = postgres_server.create_database()
    settings = make_settings(
        engines=TONE_ONLY, index={"url": url}, housekeeping={"enabled": False, "on_start": False}
    )
    engine = CoreEngine(settings, engines={"tone": ToneEngine()})
    with TestClient(create_app(settings, engine=engine)) as client:
        before, _ = speak(client, "Before the database went away.")
        assert client.get("/api/v1/outputs").json()["total_files"] == 1

        postgres_server.stop()
        try:
            for route in ("/api/v1/outputs", "/api/v1/vc_inputs", "/api/v1/voices"):
                refused = client.get(route)
                assert refused.status_code == 503, (route, refused.text)
                error = refused.json()["error"]
                assert error["code"] == "index_unavailable" and refused.headers["retry-after"]
                where = f"PostgreSQL 127.0.0.1:{postgres_server.port}/{url.rsplit('/', 1)[1]}"
                assert f"the metadata index ({where}) is unavailable: " in error["message"], error
                assert len(error["message"]) > len(f"the metadata index ({where}) is unavailable: ") + 5

            with caplog.at_level(logging.WARNING):
                during, audio = speak(client, "While the database was away.")
            samples, rate = sf.read(io.BytesIO(audio))
            assert len(samples) / rate == pytest.approx(3.0, abs=0.05)  # the whole output came back
            assert (Path(settings.paths.outputs_dir) / during).is_file()
            assert any(during in record.getMessage() for record in caplog.records), "file name not logged"
        finally:
            postgres_server.start()

        # back: the output saved meanwhile is recorded by the first call that reaches the index
        body = client.get("/api/v1/outputs?sort_by=date&sort_order=asc").json()
        assert [item["path"] for item in body["files"]] == [before, during]
        assert body["files"][1]["text"] == "While the database was away."
