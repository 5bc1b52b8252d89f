"""Long operations report progress through a callback: chunks spoken, segments joined."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np

from config import Settings
from core.concat import ConcatOptions
from core_engine import ConcatJob, CoreEngine, ItemSpec, Progress, SpeechRequest
from tests.support.engines import ToneEngine
from utils.audio import Clip, encode


class ChunkedTone(ToneEngine):
    max_chunk_chars = 40


def test_each_spoken_chunk_is_reported(make_settings: Callable[..., Settings]) -> None:
    engine = CoreEngine(make_settings(), engines={"tone": ChunkedTone()})
    heard: list[Progress] = []
    text = "The first sentence is here. A second one follows it. And a third ends the text."

    async def run() -> None:
        await engine.start()
        try:
            await engine.synthesize(SpeechRequest(text=text, engine="tone"), heard.append)
        finally:
            await engine.stop()

    asyncio.run(run())
    assert (heard[0].done, heard[0].total) == (0, 3)  # the count is known before the first chunk is done
    done = [(p.stage, p.done, p.total) for p in heard if p.done and not p.within]
    assert done == [("speak", 1, 3), ("speak", 2, 3), ("speak", 3, 3)]
    assert [p.fraction for p in heard] == sorted(p.fraction for p in heard)  # never backwards


def test_concatenation_reports_segments_and_the_normalising_pass(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    engine = CoreEngine(settings, engines={"tone": ToneEngine()})
    outputs = Path(settings.paths.outputs_dir)
    outputs.mkdir(parents=True, exist_ok=True)
    (outputs / "a.wav").write_bytes(encode(Clip(np.full(24000, 0.1, np.float32), 24000), "wav"))
    heard: list[Progress] = []
    job = ConcatJob(
        items=tuple(ItemSpec(f"files[{i}]", source=s) for i, s in enumerate(["a.wav", "(1s)", "a.wav"])),
        options=ConcatOptions(normalize=True),
    )
    asyncio.run(engine.concat(job, heard.append))
    joins = [(p.done, p.total) for p in heard if p.stage == "join"]
    assert joins == [(1, 3), (2, 3), (3, 3)]
    passes = [p for p in heard if p.stage == "normalize"]
    assert passes and passes[-1].done == passes[-1].total == 3 * 24000
    assert passes[-1].fraction == 1.0
