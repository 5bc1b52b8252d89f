"""Progress within a unit of work: ticks while it runs, a pace estimate that never claims it done."""

from __future__ import annotations

import asyncio

import pytest

from core.progress import Pace, Progress, ticking


def test_ticks_come_while_the_work_runs_and_the_result_comes_back() -> None:
    ticks: list[float] = []

    async def work() -> str:
        await asyncio.sleep(0.35)
        return "made"

    assert asyncio.run(ticking(work(), ticks.append, every=0.1)) == "made"
    assert 2 <= len(ticks) <= 4 and ticks == sorted(ticks)


def test_cancelling_the_waiter_cancels_the_work() -> None:
    finished: list[bool] = []

    async def work() -> None:
        await asyncio.sleep(5)
        finished.append(True)

    async def main() -> asyncio.Task[None]:
        waiter = asyncio.ensure_future(ticking(work(), lambda _: None, every=0.05))
        await asyncio.sleep(0.1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await asyncio.sleep(0.05)
        return waiter

    asyncio.run(main())
    assert finished == []


def test_the_pace_is_unknown_until_heard_and_never_reaches_a_whole_chunk() -> None:
    pace = Pace()
    assert pace.share("piper", 100, 10.0) == 0.0
    pace.heard("piper", 100, 2.0)  # 0.02 s a character
    assert pace.share("piper", 50, 0.5) == pytest.approx(0.5)
    assert pace.share("piper", 50, 60.0) == 0.95
    assert pace.share("chatterbox", 50, 0.5) == 0.0
    assert Progress("speak", 1, 4, within=0.5).fraction == pytest.approx(0.375)


def test_the_pace_weighs_chunks_by_their_length_and_hears_a_group_as_one_wait() -> None:
    pace = Pace()
    pace.heard("chatterbox", 100, 1.0)
    pace.heard("chatterbox", 10, 1.0)  # a short chunk's slow second does not set the pace alone
    rate = (1.0 * Pace.KEEP + 1.0) / (100 * Pace.KEEP + 10)
    assert pace.share("chatterbox", 100, 1.0) == pytest.approx(1.0 / (rate * 100))
    grouped = Pace()
    grouped.heard("chatterbox", 500, 10.0)  # five chunks of 100 made in one call (core/chunk_groups.py)
    assert grouped.share("chatterbox", 500, 5.0) == pytest.approx(0.5)
