"""Admission and fairness: a full model queue answers 503 with Retry-After; requests take turns.

A gated engine holds every chunk until the test lets it go, so the queue's state is known exactly
(order of events, not timing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.base import EngineTraits, SynthesisParams
from main_api import create_app
from tests.support.engines import RATE, PreparingEngine, ToneEngine, plant_warm_voices
from tests.support.live_server import serve_in_thread
from utils.audio import Clip


class GatedEngine(ToneEngine):
    """Speaks each chunk as 0.1 s of tone when the test lets it; records chunks in the order spoken."""

    name = "gated"
    max_chunk_chars = 40

    def __init__(self) -> None:
        super().__init__()
        self.permits = threading.Semaphore(0)  # one per chunk the test lets through
        self.calls = threading.Semaphore(0)  # released as each call starts waiting
        self.finished = threading.Semaphore(0)  # released as each call ends
        self.spoken: list[str] = []

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        self.calls.release()
        assert self.permits.acquire(timeout=30), "the test never let this chunk through"
        self.spoken.append(text)
        self.finished.release()
        return Clip(np.full(RATE // 10, 0.1, dtype=np.float32), RATE)

    def step(self) -> None:
        """Let the waiting call through and wait until it is done."""
        self.permits.release()
        assert self.finished.acquire(timeout=30)

    def open(self) -> None:
        self.permits.release(1000)


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, GatedEngine, CoreEngine]]:
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        limits={"max_queued_requests": 2},
        openai={"models": {"tts-1": "gated"}},
    )
    engine = GatedEngine()
    core = CoreEngine(settings, engines={"gated": engine})
    with serve_in_thread(create_app(settings, engine=core)) as base:
        yield base, engine, core
        engine.open()  # let anything still waiting finish before the server stops


def _wait_until(condition: Callable[[], bool], failure: str, timeout: float = 30) -> None:
    """Poll ``condition`` until it holds; fail with ``failure`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.01)


def _tts(base: str, text: str, **extra: object) -> httpx.Response:
    body = {"text": text, "engine": "gated", "export_formats": ["wav"], **extra}
    return httpx.post(f"{base}/api/v1/tts", params={"response_mode": "json"}, json=body, timeout=60)


def test_a_full_queue_answers_503_with_retry_after(served: tuple[str, GatedEngine, CoreEngine]) -> None:
    base, engine, core = served
    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(_tts, base, f"Request {i} holds a place.") for i in range(2)]
        assert engine.calls.acquire(timeout=30)  # one is on the model, the other waits its turn...
        # ...once admitted too (its HTTP request may still be on its way)
        _wait_until(lambda: core.engines.admitted >= 2, "the second request was never admitted")
        refused = _tts(base, "One too many.")
        assert refused.status_code == 503
        assert int(refused.headers["retry-after"]) >= 1
        error = refused.json()["error"]
        assert error["type"] == "server_busy" and error["code"] == "queue_full"
        assert error["param"] == "engine" and "limits.max_queued_requests" in error["message"]

        client = openai.OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.InternalServerError) as caught:  # the SDK's class for 5xx
            client.audio.speech.create(model="tts-1", voice="alloy", input="Also refused.")
        assert caught.value.status_code == 503
        assert caught.value.response.headers["retry-after"]
        assert caught.value.body["code"] == "queue_full"  # type: ignore[index]

        engine.open()
        assert [f.result().status_code for f in held] == [200, 200]
    assert _tts(base, "Room again.").status_code == 200  # places are given back


def test_a_short_request_is_not_stuck_behind_a_long_one(served: tuple[str, GatedEngine, CoreEngine]) -> None:
    base, engine, core = served
    long_text = " ".join(f"Long sentence number {i} goes here." for i in range(6))
    with ThreadPoolExecutor(2) as pool:
        long: Future[httpx.Response] = pool.submit(_tts, base, long_text)
        assert engine.calls.acquire(timeout=30)  # the long request's first chunk is on the model
        short = pool.submit(_tts, base, "Short one.")
        # the short request's chunk is queued behind chunk 0
        _wait_until(lambda: core.engines.queue_depth >= 2, "the short request's chunk was never queued")
        # Let chunks through one at a time until the short request has been spoken.
        while not any("short" in chunk for chunk in engine.spoken):  # text handling lowercases it
            engine.step()
            assert engine.calls.acquire(timeout=30), engine.spoken
        engine.open()
        assert short.result().status_code == 200 and long.result().status_code == 200
    position = next(i for i, chunk in enumerate(engine.spoken) if "short" in chunk)
    assert position == 1, engine.spoken  # next, not after the rest of the long text
    assert len(engine.spoken) == 7


def test_long_text_jobs_wait_for_room_instead_of_failing(served: tuple[str, GatedEngine, CoreEngine]) -> None:
    base, engine, _core = served
    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(_tts, base, f"Request {i} holds a place.") for i in range(2)]
        assert engine.calls.acquire(timeout=30)
        job = httpx.post(
            f"{base}/api/v1/tts/jobs", json={"text": "A job.", "engine": "gated", "export_formats": ["wav"]}
        )
        assert job.status_code == 202, job.text
        engine.open()
        assert [f.result().status_code for f in held] == [200, 200]
    job_id = job.json()["job_id"]
    with httpx.stream("GET", f"{base}/api/v1/tts/jobs/{job_id}/events", timeout=60) as events:
        for _ in events.iter_lines():
            pass
    status = httpx.get(f"{base}/api/v1/tts/jobs/{job_id}").json()
    assert status["status"] == "done", status


def test_configured_voices_are_conditioned_as_soon_as_the_engine_loads(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    plant_warm_voices(tmp_path)
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        models={"warm_voices": ["narrator", "books/anna", "missing"]},
    )
    engine = PreparingEngine()
    with TestClient(create_app(settings, engine=CoreEngine(settings, engines={"tone": engine}))):
        deadline = time.monotonic() + 30
        while len(engine.prepared) < 2:
            assert time.monotonic() < deadline, engine.prepared
            time.sleep(0.05)
    assert engine.prepared == ["narrator.wav", "anna.wav"]  # a missing one is logged and skipped


@pytest.mark.parametrize("door", ["openai", "rest stream"])
def test_a_client_that_disconnects_stops_the_rest_of_its_work(
    served: tuple[str, GatedEngine, CoreEngine], door: str
) -> None:
    base, engine, core = served
    text = " ".join(f"Sentence number {i} is here." for i in range(10))
    path, body = {
        "openai": (
            "/v1/audio/speech",
            {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"},
        ),
        "rest stream": (
            "/api/v1/tts",
            {"text": text, "engine": "gated", "stream": True, "export_formats": ["wav"]},
        ),
    }[door]
    with httpx.stream("POST", f"{base}{path}", json=body, timeout=30) as response:
        assert engine.calls.acquire(timeout=30)
        engine.step()  # the first sentence is spoken and sent
        assert next(response.iter_bytes())
    # The client has hung up. Once the server notices, the request gives its place back...
    deadline = time.monotonic() + 30
    while core.engines.admitted:
        assert time.monotonic() < deadline, "the request was not cancelled"
        time.sleep(0.05)
    engine.open()  # ...and the chunk already on the model is the last one spoken.
    time.sleep(0.5)
    assert len(engine.spoken) <= 2, engine.spoken
    outputs = Path(core.settings.paths.outputs_dir)
    assert not [p for p in outputs.rglob("*") if p.is_file() and not p.name.startswith(".")]  # nothing saved


class BatchingEngine(GatedEngine):
    """A gated engine that takes several chunks at once, as Chatterbox does with its T3 batch."""

    # 4 model calls at once (engines/manager.py sizes the worker by it); 2 chunks of one text in flight
    traits = EngineTraits(concurrency=4, chunks_ahead=2)

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self._count = threading.Lock()

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        with self._count:
            self.in_flight += 1
        try:
            return super().synthesize(text, voice, params)
        finally:
            with self._count:
                self.in_flight -= 1

    def batch_stats(self) -> dict[str, float]:
        return {"batch_size": self.in_flight, "max_batch_size": 4, "waiting": 0, "tokens_per_second": 12.5}


def test_a_batching_engine_gets_chunks_of_every_request_at_once(
    make_settings: Callable[..., Settings],
) -> None:
    """Two chunks of a long text and a short request are on the model together; the limit still holds."""
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        limits={"max_queued_requests": 2},
    )
    engine = BatchingEngine()
    core = CoreEngine(settings, engines={"gated": engine})
    long_text = " ".join(f"Long sentence number {i} goes here." for i in range(5))
    with serve_in_thread(create_app(settings, engine=core)) as base, ThreadPoolExecutor(2) as pool:
        try:
            long = pool.submit(_tts, base, long_text)
            for _ in range(2):  # its first two chunks, without waiting for each other
                assert engine.calls.acquire(timeout=30)
            short = pool.submit(_tts, base, "Short one.")
            assert engine.calls.acquire(timeout=30)  # joins them: not stuck behind the long text
            assert engine.in_flight == 3
            health = httpx.get(f"{base}/health").json()
            batch = next(e for e in health["engines"] if e["name"] == "gated")["t3_batch"]
            assert batch["batch_size"] == 3 and batch["tokens_per_second"] == 12.5
            metrics = httpx.get(f"{base}/metrics").text
            assert 't3_batch_size{engine="gated"} 3.0' in metrics
            assert 't3_tokens_per_second{engine="gated"} 12.5' in metrics
            refused = _tts(base, "One too many.")
            assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
        finally:
            engine.open()
        assert short.result().status_code == 200
        answer = long.result()
    assert answer.status_code == 200, answer.text
    assert len(engine.spoken) == 6
    reported = [chunk["text"] for chunk in answer.json()["chunks"]]
    assert reported == sorted(reported, key=lambda t: int(t.split()[3])), reported  # heard in order
