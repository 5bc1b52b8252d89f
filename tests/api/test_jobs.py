"""Long-text TTS jobs through the HTTP API: progress, events, result, cancellation."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.base import SynthesisParams
from main_api import create_app
from tests.support.engines import ToneEngine
from utils.audio import Clip, decode

TEXT = "The first part of the chapter. The second part follows. And the third part ends it."


class GatedTone(ToneEngine):
    """3 s of tone per chunk; chunks after the first wait until ``gate`` opens."""

    max_chunk_chars = 35

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.started = 0

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        self.started += 1
        if self.started > 1:
            assert self.gate.wait(30)
        return super().synthesize(text, voice, params)


@pytest.fixture
def setup(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, GatedTone, Path]]:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    engine = GatedTone()
    core = CoreEngine(settings, engines={"tone": engine})
    with TestClient(create_app(settings, engine=core)) as client:
        yield client, engine, Path(settings.paths.outputs_dir)
    engine.gate.set()


def wait_for(client: TestClient, job_id: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 120  # a guard against a hang, not a speed test: loaded CI machines are slow
    while True:
        job = client.get(f"/api/v1/tts/jobs/{job_id}").json()
        if check(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_a_job_reports_progress_then_its_files(setup: tuple[TestClient, GatedTone, Path]) -> None:
    client, engine, _ = setup
    submitted = client.post(
        "/api/v1/tts/jobs", json={"text": TEXT, "engine": "tone", "export_formats": ["wav"]}
    )
    assert submitted.status_code == 202
    job_id = submitted.json()["job_id"]
    first = wait_for(client, job_id, lambda j: j["progress"]["chunks_done"] == 1)
    assert first["status"] == "running"
    progress = first["progress"]
    assert (progress["chunks_done"], progress["chunks_total"], progress["audio_seconds"]) == (1, 3, 3.0)
    # the fraction also counts the estimated share of the chunk under way, never a whole chunk
    assert 0.333 <= progress["fraction"] < 0.667
    engine.gate.set()
    done = wait_for(client, job_id, lambda j: j["status"] == "done")
    assert done["progress"]["audio_seconds"] == 9.0 and done["finished"] >= done["started"]
    url = done["result"]["output_files"][0]["url"]
    assert decode(client.get(url).content).duration == pytest.approx(9.0, abs=0.1)
    assert job_id in [job["job_id"] for job in client.get("/api/v1/tts/jobs").json()["jobs"]]


def test_events_stream_progress_until_done(setup: tuple[TestClient, GatedTone, Path]) -> None:
    client, engine, _ = setup
    job_id = client.post("/api/v1/tts/jobs", json={"text": TEXT, "engine": "tone"}).json()["job_id"]
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("GET", f"/api/v1/tts/jobs/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[len("data: ") :])))
                engine.gate.set()  # let the rest run once the stream is being watched
    assert events[-1][0] == "done" and events[-1][1]["result"]["output_files"]
    done = [data["progress"]["chunks_done"] for _, data in events]
    assert done == sorted(done) and done[-1] == 3
    assert all(kind == "progress" for kind, _ in events[:-1])


def test_cancel_stops_the_job_and_saves_nothing(setup: tuple[TestClient, GatedTone, Path]) -> None:
    client, engine, outputs = setup
    job_id = client.post("/api/v1/tts/jobs", json={"text": TEXT, "engine": "tone"}).json()["job_id"]
    wait_for(client, job_id, lambda j: j["progress"]["chunks_done"] == 1)
    cancelled = client.delete(f"/api/v1/tts/jobs/{job_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    engine.gate.set()
    time.sleep(0.3)
    assert client.get(f"/api/v1/tts/jobs/{job_id}").json()["status"] == "cancelled"
    assert engine.started == 2  # the chunk in progress finished; the third never started
    assert not [p for p in outputs.rglob("*") if p.is_file() and not p.name.startswith(".")]


def test_bad_jobs_fail_up_front_or_on_the_job(setup: tuple[TestClient, GatedTone, Path]) -> None:
    client, engine, _ = setup
    engine.gate.set()
    assert client.post("/api/v1/tts/jobs", json={"text": ""}).json()["error"]["param"] == "text"
    missing = client.get("/api/v1/tts/jobs/nope")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "job_id"
    unknown = client.post("/api/v1/tts/jobs", json={"text": "Hi.", "engine": "no-such-engine"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "engine"  # up front
    job_id = client.post(
        "/api/v1/tts/jobs", json={"text": "Hi.", "engine": "tone", "voice": "no-such-voice.wav"}
    ).json()["job_id"]
    failed = wait_for(client, job_id, lambda j: j["status"] == "failed")  # found out when the job runs
    assert failed["error"]["param"] == "voice"


class SlowTone(ToneEngine):
    """The tone, after ``delay`` seconds: one chunk that takes a while, as a long sentence would."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        time.sleep(self.delay)
        return super().synthesize(text, voice, params)


def test_progress_moves_while_a_single_long_chunk_is_spoken(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    core = CoreEngine(settings, engines={"tone": SlowTone(2.0)})
    body = {"text": "One sentence that takes the engine two seconds to say.", "engine": "tone"}
    with TestClient(create_app(settings, engine=core)) as client:
        # the first job teaches the server the engine's pace; the second shows it moving within its chunk
        first = client.post("/api/v1/tts/jobs", json=body).json()["job_id"]
        wait_for(client, first, lambda j: j["status"] == "done")
        job_id = client.post("/api/v1/tts/jobs", json=body).json()["job_id"]
        seen: list[float] = []
        while (job := client.get(f"/api/v1/tts/jobs/{job_id}").json())["status"] in ("queued", "running"):
            if job["progress"]["chunks_done"] == 0 and job["progress"]["chunks_total"] == 1:
                seen.append(job["progress"]["fraction"])
            time.sleep(0.1)
    assert job["status"] == "done" and job["progress"]["fraction"] == 1.0
    moving = sorted(set(seen))
    assert seen == sorted(seen) and len(moving) >= 3, seen  # it moved, and never backwards
    assert 0.0 < moving[-1] <= 0.95 and moving[1] < 0.5


def test_a_long_piper_job_counts_its_sentences(make_settings: Callable[..., Settings]) -> None:
    # Piper takes any length in one call; a job cuts it at sentences so its progress can move.
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    text = " ".join(f"This is sentence number {n} of a short chapter read by Piper." for n in range(12))
    with TestClient(create_app(settings)) as client:
        job_id = client.post("/api/v1/tts/jobs", json={"text": text, "engine": "piper"}).json()["job_id"]
        done = wait_for(client, job_id, lambda j: j["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    assert (
        done["progress"]["chunks_total"] >= 3
        and done["progress"]["chunks_done"] == done["progress"]["chunks_total"]
    )
    assert done["result"]["duration_seconds"] > 30
