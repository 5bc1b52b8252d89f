"""Chunks spoken together (``VocodesTogether``, as Chatterbox vocodes them) through ``POST /api/v1/tts``.

A double engine records how it was called: groups of consecutive chunks within its limits for a file,
one chunk a call for a stream; each chunk's audio and notes land where that chunk's would; two
groups at once; every call of one request with that request's owner (``engines.worker.call_owner``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.base import EngineTraits, SynthesisParams, VocodesTogether
from engines.worker import call_owner
from main_api import create_app
from tests.conftest import wait_until_ready
from tests.support.engines import RATE, ToneEngine
from utils.audio import Clip, decode

SENTENCES = [f"The {nth} sentence is here." for nth in ("first", "second", "third", "fourth", "fifth")]
LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5]
SPOKEN = [sentence.lower() for sentence in SENTENCES]  # as the engine gets them (Plus lower-cases text)


class GroupingEngine(ToneEngine):
    """Each chunk is (its number) tenths of a second of a tone; groups of up to 60 characters, 4 chunks."""

    name = "grouping"
    traits = EngineTraits(concurrency=4, chunks_ahead=4)
    vocode_group_chars = 60
    max_chunk_chars = 300

    def __init__(self, group_seconds: float = 0.0) -> None:
        super().__init__()
        self.groups: list[list[str]] = []
        self.alone: list[str] = []
        self.owners: list[object | None] = []  # each call's owner, in call order
        self.group_seconds = group_seconds  # how long a group call takes
        self.running = self.most_running = 0  # group calls at once
        self._lock = threading.Lock()

    @staticmethod
    def _clip(text: str) -> Clip:
        number = SPOKEN.index(text) + 1
        return Clip(np.full(number * RATE // 10, 0.1 * number, dtype=np.float32), RATE)

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        self.alone.append(text)
        self.owners.append(call_owner())
        return self._clip(text)

    def synthesize_group(
        self, texts: Sequence[str], voice: Path | str | None, params: Sequence[SynthesisParams]
    ) -> list[tuple[Clip, list[str]]]:
        with self._lock:
            self.groups.append(list(texts))
            self.owners.append(call_owner())
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        time.sleep(self.group_seconds)
        with self._lock:
            self.running -= 1
        return [(self._clip(text), [f"note on {text}"]) for text in texts]


def serve(make_settings: Callable[..., Settings], engine: GroupingEngine) -> TestClient:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    return TestClient(create_app(settings, engine=CoreEngine(settings, engines={"grouping": engine})))


def speak(client: TestClient, **extra: object) -> dict[str, object]:
    body = {"text": " ".join(SENTENCES), "engine": "grouping", "export_formats": ["wav"], **extra}
    answer = client.post("/api/v1/tts", params={"response_mode": "json"}, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_file_is_spoken_in_groups_heard_in_order(make_settings: Callable[..., Settings]) -> None:
    engine = GroupingEngine()
    assert isinstance(engine, VocodesTogether)
    with serve(make_settings, engine) as client:
        wait_until_ready(client)
        spoken = speak(client)
        audio = decode(client.get(spoken["output_files"][0]["url"]).content)
    # 26-27 characters a sentence, 60 a group: two and two, then the fifth alone
    assert engine.groups == [SPOKEN[0:2], SPOKEN[2:4]]
    assert engine.alone == [SPOKEN[4]]
    assert [chunk["text"] for chunk in spoken["chunks"]] == SPOKEN
    assert spoken["warnings"] == [f"chunk {i}: note on {text}" for i, text in enumerate(SPOKEN[:4], 1)]
    # every 50 ms, but where two chunks are crossfaded
    levels = [level for v in audio.samples[:: RATE // 20] if (level := round(float(v), 2)) in LEVELS]
    heard = [level for i, level in enumerate(levels) if i == 0 or level != levels[i - 1]]
    assert heard == LEVELS  # chunk n: n tenths of a second at 0.n


def test_a_stream_is_spoken_chunk_by_chunk(make_settings: Callable[..., Settings]) -> None:
    engine = GroupingEngine()
    with serve(make_settings, engine) as client:
        wait_until_ready(client)
        body = {"text": " ".join(SENTENCES), "engine": "grouping", "stream": True, "export_formats": ["wav"]}
        answer = client.post("/api/v1/tts", json=body)
    assert answer.status_code == 200
    assert engine.groups == [] and engine.alone == SPOKEN


def test_two_groups_are_spoken_at_once_and_every_call_names_its_request(
    make_settings: Callable[..., Settings],
) -> None:
    """The next group starts with the current one (T3 decodes both in one batch); every call of a
    request carries one owner, another request's another (the T3 batch shares its places by owner)."""
    engine = GroupingEngine(group_seconds=0.5)
    engine.traits = EngineTraits(concurrency=4, chunks_ahead=2)  # chunk 0 starts chunks 0 and 1: group 1
    with serve(make_settings, engine) as client:
        wait_until_ready(client)
        first = speak(client)
        calls = len(engine.owners)
        second = speak(client)
    assert [chunk["text"] for chunk in first["chunks"]] == SPOKEN == [c["text"] for c in second["chunks"]]
    assert sorted(engine.groups) == sorted([SPOKEN[0:2], SPOKEN[2:4]] * 2)
    assert engine.most_running == 2  # each group takes 0.5 s: the second began during the first
    mine, theirs = engine.owners[:calls], engine.owners[calls:]
    assert calls == 3 and len(theirs) == 3  # two groups and the fifth sentence alone, each time
    assert mine[0] is not None and all(owner is mine[0] for owner in mine)
    assert all(owner is theirs[0] for owner in theirs) and theirs[0] is not mine[0]
