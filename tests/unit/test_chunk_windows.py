"""``ChunkWindows`` (core/windows.py): windows for the first chunk, for a later one only when the
audio sent is down to the margin ahead of the listener (seconds sent minus time since the first)."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from core.windows import ChunkWindows
from utils.audio import Clip

RATE = 24_000


def _clip(seconds: float) -> Clip:
    return Clip(np.zeros(int(seconds * RATE), dtype=np.float32), RATE)


def test_a_later_chunk_gets_windows_once_the_listener_is_down_to_the_margin() -> None:
    async def scenario() -> None:
        now = [10.0]
        windows = ChunkWindows(3, margin=1.0, clock=lambda: now[0])
        assert windows.ahead() == -math.inf  # nothing heard yet: the first chunk is windowed
        done: list[tuple[Clip, str]] = []

        async def first() -> tuple[Clip, str]:
            windows.partials[0].send(_clip(2.0))  # its only window, then the whole chunk (2 s)
            return _clip(2.0), "first"

        assert len([piece async for piece in windows.hear(0, first(), done)]) == 1
        assert windows.partials[0].wanted.is_set() and windows.ahead() == 2.0

        now[0] = 10.5  # 0.5 s heard: 1.5 s ahead, over the 1 s margin

        async def second() -> tuple[Clip, str]:
            partial = windows.partials[1]
            assert partial.waited.is_set() and not partial.wanted.is_set()  # whole, for now
            now[0] = 11.2  # 0.8 s ahead: down to the margin, windows are wanted (checked ~0.5 s on)
            for _ in range(500):  # (at most 5 s)
                if partial.wanted.is_set():
                    break
                await asyncio.sleep(0.01)
            assert partial.wanted.is_set(), "a listener down to the margin got no windows"
            partial.send(_clip(0.5))
            return _clip(3.0), "second"

        pieces = [piece async for piece in windows.hear(1, second(), done)]
        assert [piece.duration for piece in pieces] == [0.5]
        assert windows.ahead() == pytest.approx(
            2.0 + 3.0 - 1.2
        )  # the chunk's whole length counts, windows or not

        async def third() -> tuple[Clip, str]:  # 3.8 s ahead: made whole, no window asked for
            assert windows.partials[2].waited.is_set() and not windows.partials[2].wanted.is_set()
            return _clip(1.0), "third"

        assert [piece async for piece in windows.hear(2, third(), done)] == []
        assert [name for _, name in done] == ["first", "second", "third"]
        assert not windows.partials[2].wanted.is_set()

    asyncio.run(scenario())
