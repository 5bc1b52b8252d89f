"""Repeated Chatterbox generations (random weights) against a real server process, its memory read
between them: the soak of issue 18 (a smoke size runs in CI, the long one is ``bench/soak_bench.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.memory_probe import PeakSampler, sampled_server, settle
from tests.support.random_checkpoint import cached_random_checkpoint

TOKENS = 25  # random weights never stop on their own: 25 tokens = 1 s of audio
WARM_UP = 4  # every request kind once: encoders, the conditionals cache, threads


@dataclass(frozen=True)
class Soak:
    baseline_mb: float  # after the warm-up
    readings_mb: list[float]  # after each later request

    @property
    def growth_mb(self) -> float:
        return self.readings_mb[-1] - self.baseline_mb


def _requests(n: int) -> Iterator[tuple[str, dict]]:
    """A mix of what users send: built-in and cloned voices, streamed, OpenAI, several seeds."""
    kinds = [
        ("/api/v1/tts", {"text": "Hello there. How are you?", "export_formats": ["wav"]}),
        (
            "/api/v1/tts",
            {"text": "A cloned voice speaks.", "voice": "narrator.wav", "export_formats": ["mp3"]},
        ),
        ("/api/v1/tts", {"text": "Streamed words arrive.", "stream": True, "export_formats": ["wav"]}),
        (
            "/v1/audio/speech",
            {"model": "tts-1", "voice": "narrator", "input": "The OpenAI door.", "response_format": "wav"},
        ),
    ]
    for i in range(n):
        route, body = kinds[i % len(kinds)]
        yield route, {**body, "seed": i} if route != "/v1/audio/speech" else body


@contextmanager
def chatterbox_server(data: Path, speech_wav: Path) -> Iterator[tuple[str, PeakSampler]]:
    """A real server process on the random-weight checkpoint (few-layer T3), with a narrator voice."""
    (data / "voices").mkdir(parents=True, exist_ok=True)
    shutil.copy(speech_wav, data / "voices" / "narrator.wav")
    env = {
        "CHATTERBOX_ENGINES__ENABLED": '["chatterbox"]',
        "CHATTERBOX_ENGINES__DEFAULT": "chatterbox",
        "CHATTERBOX_MODELS__CHECKPOINT_DIR": str(cached_random_checkpoint(speech_wav)),
        "CHATTERBOX_MODELS__DEVICE": "cpu",
        "CHATTERBOX_MODELS__MAX_NEW_TOKENS": str(TOKENS),
        "CHATTERBOX_VALIDATION__BYPASS": "true",  # Whisper would reject noise
    }
    with sampled_server(data, small_t3=True, timeout=600, **env) as served:
        yield served


def soak(base: str, sampler: PeakSampler, requests: int) -> Soak:
    """``WARM_UP`` requests, then ``requests`` more, reading the server's RSS after each."""
    readings: list[float] = []
    baseline = 0.0
    with httpx.Client(base_url=base, timeout=600) as client:
        for i, (route, body) in enumerate(_requests(WARM_UP + requests)):
            response = client.post(route, json=body)
            response.raise_for_status()
            assert len(response.content) > 1000, response.content[:200]
            if i == WARM_UP - 1:
                baseline = settle(sampler)
            elif i >= WARM_UP:
                readings.append(settle(sampler, 0.3))
    readings[-1] = settle(sampler)
    return Soak(baseline, readings)
