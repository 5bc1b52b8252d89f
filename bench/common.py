"""What the serving benches set up alike: a text to speak and a server in this process on temporary
folders. Import as ``from bench.common import ...`` once the repository root is on ``sys.path`` (every
bench script puts it there first)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from config import Settings, load_settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.live_server import serve_in_thread

SENTENCES = [
    "The river ran quietly past the old mill at the edge of the village.",
    "Children gathered on the bridge every morning to watch the boats go by.",
    "Nobody remembered when the market had first opened in the square.",
    "By noon the stalls were full of apples, bread and bright woollen scarves.",
    "A dog slept in the shade of the fountain while the bells rang twelve.",
]


BYTES_PER_SECOND = 2 * 24_000  # Chatterbox's streamed wav: 16-bit mono at 24 kHz, after a 44-byte header


def bench_settings(data: Path, **sections: Any) -> Settings:
    """Settings with the data folders under ``data``, no housekeeping and no UI, and ``sections``."""
    return load_settings(
        paths={
            name: str(data / name.removesuffix("_dir"))
            for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")
        },
        housekeeping={"enabled": False, "on_start": False},
        ui={"enabled": False},
        **sections,
    )


@contextmanager
def served(settings: Settings, core: CoreEngine, *, timeout: float, poll: float) -> Iterator[httpx.Client]:
    """The app on ``core`` under uvicorn on a loopback port; a client once ``/health`` says healthy."""
    with (
        serve_in_thread(create_app(settings, engine=core)) as base,
        httpx.Client(base_url=base, timeout=timeout) as client,
    ):
        while client.get("/health").json().get("status") != "healthy":
            time.sleep(poll)
        yield client


def chatterbox_settings(data: Path, checkpoint: Path, tokens: int, **models: Any) -> Settings:
    """``bench_settings`` serving only Chatterbox from ``checkpoint`` on the CPU, ``tokens`` speech
    tokens per chunk (random weights never stop), no conditionals on disk, no Whisper check; ``models``
    adds to the models section."""
    return bench_settings(
        data,
        engines={"enabled": ["chatterbox"], "default": "chatterbox", "fallback": None},
        models={
            "checkpoint_dir": str(checkpoint),
            "device": "cpu",
            "max_new_tokens": tokens,
            "conditionals_cache_dir": None,
            **models,
        },
        validation={"bypass": True},
    )


def time_stream(client: httpx.Client, body: dict[str, Any]) -> tuple[float, float, int, float]:
    """A streamed ``POST /api/v1/tts`` (wav): seconds to the first audio bytes (past the header) and
    to the end; bytes received; and how long a listener playing the audio in real time from its first
    bytes waited for more after them."""
    started = time.perf_counter()
    first, size, stalled = None, 0, 0.0
    with client.stream("POST", "/api/v1/tts", json=body) as response:
        response.raise_for_status()
        for piece in response.iter_bytes():
            now = time.perf_counter() - started
            if first is None and size + len(piece) > 44:  # the header alone is not audio
                first = now
            elif first is not None:  # the audio so far runs out at first + its length + earlier waits
                runs_out = first + (size - 44) / BYTES_PER_SECOND + stalled
                stalled += max(0.0, now - runs_out)
            size += len(piece)
    return first or 0.0, time.perf_counter() - started, size, stalled


def s3gen_calls(engine: Any) -> list[tuple[float, float]]:
    """Each of the engine's S3Gen calls from now on as ``(start, end)`` (``time.perf_counter``),
    appended as they end; the calls still go through."""
    calls: list[tuple[float, float]] = []
    plain = engine._vocode

    def vocode(*args: Any) -> Any:
        began = time.perf_counter()
        try:
            return plain(*args)
        finally:
            calls.append((began, time.perf_counter()))

    engine._vocode = vocode
    return calls


def served_checkpoint(data: Path, voice: Path, layers: int | None) -> Path:
    """A random-weight Chatterbox checkpoint in ``data/ckpt`` from ``voice``, built on the torch thread
    of the server these benches run in this process (``engines.compute``): torch's OpenMP workers on a
    second thread (the bench's) would slow every kernel of the server's."""
    from engines.compute import on_torch_thread
    from tests.support.random_checkpoint import build_random_checkpoint

    return on_torch_thread(lambda: build_random_checkpoint(data / "ckpt", voice, layers=layers))
