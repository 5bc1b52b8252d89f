"""A server's resident memory around speech requests: its baseline, its peak while a request runs, and
what stays after, beside the PCM size of the audio the request made (used by a test and a bench)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.support.live_server import live_server_process
from utils.audio import decode

MB = 2**20
# A server speaking with Piper alone, loaded at start: what the memory and load tests and benches run.
PIPER_SERVER = {
    "CHATTERBOX_ENGINES__ENABLED": '["piper"]',
    "CHATTERBOX_ENGINES__DEFAULT": "piper",
    "CHATTERBOX_ENGINES__LOAD_ON_FIRST_USE": "[]",
}
# One sentence, 71 characters; texts of any length are cut from repeats of it.
SENTENCE = "The quick brown fox jumps over the lazy dog near the quiet river bank. "


def text_of(chars: int) -> str:
    return (SENTENCE * (chars // len(SENTENCE) + 1))[:chars].strip()


@dataclass(frozen=True)
class Reading:
    """One request: the server's peak above the baseline, and what its audio weighs as float32 PCM."""

    peak_above_baseline_mb: float
    pcm_mb: float

    @property
    def ratio(self) -> float:
        return self.peak_above_baseline_mb / self.pcm_mb if self.pcm_mb else float("inf")


class PeakSampler:
    """Samples a process's RSS every 20 ms on a thread while in use."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)

    def rss_mb(self) -> float:
        return self.process.memory_info().rss / MB

    @contextmanager
    def peak(self) -> Iterator[Callable[[], float]]:
        """Within the block, the callable gives the highest RSS (MB) seen so far."""
        highest = [self.rss_mb()]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                highest[0] = max(highest[0], self.rss_mb())

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield lambda: highest[0]
        finally:
            done.set()
            thread.join()
            highest[0] = max(highest[0], self.rss_mb())


def speak(base: str, route: str, chars: int) -> bytes:
    """One request of ``chars`` characters on ``route`` (``tts``, ``tts-stream`` or ``openai``): its audio."""
    text = text_of(chars)
    with httpx.Client(timeout=900) as client:
        if route == "openai":
            body = {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"}
            response = client.post(f"{base}/v1/audio/speech", json=body)
        else:
            body = {"text": text, "stream": route == "tts-stream", "export_formats": ["wav"]}
            response = client.post(f"{base}/api/v1/tts", json=body)
    response.raise_for_status()
    return response.content


def measure(sampler: PeakSampler, base: str, route: str, chars: int) -> Reading:
    """One request, with the baseline read just before it."""
    baseline = sampler.rss_mb()
    with sampler.peak() as highest:
        audio = speak(base, route, chars)
    pcm_mb = len(decode(audio).samples) * 4 / MB
    return Reading(highest() - baseline, pcm_mb)


def settle(sampler: PeakSampler, seconds: float = 1.0) -> float:
    """RSS once the server has been idle a moment (encoders' threads and sockets wound down)."""
    time.sleep(seconds)
    return sampler.rss_mb()


@contextmanager
def sampled_server(data: Path, **live: Any) -> Iterator[tuple[str, PeakSampler]]:
    """A real server process on folders under ``data`` (``live``: as ``live_server_process`` takes, such
    as ``**PIPER_SERVER``): its base URL and a sampler of its memory."""
    with live_server_process(data, **live) as (base, server):
        yield base, PeakSampler(server.pid)
