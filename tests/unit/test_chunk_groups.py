"""Which chunks of a text are spoken together, and how their group's one call reaches each chunk."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from core.chunk_groups import ChunkGroups, Spoken, plan_groups
from utils.audio import Clip


@pytest.mark.parametrize(
    ("lengths", "max_chars", "max_chunks", "groups"),
    [
        ([100, 100, 100, 100, 100], 400, 4, [[0, 1, 2, 3], [4]]),
        ([100, 100, 100, 100, 100], 250, 4, [[0, 1], [2, 3], [4]]),
        ([100, 100, 100], 1000, 2, [[0, 1], [2]]),
        ([500, 50, 50], 400, 4, [[0], [1, 2]]),  # a chunk over the limit is a group of its own
        ([50], 400, 4, [[0]]),
        ([], 400, 4, []),
    ],
)
def test_groups_are_consecutive_and_within_both_limits(
    lengths: list[int], max_chars: int, max_chunks: int, groups: list[list[int]]
) -> None:
    assert [list(group) for group in plan_groups(lengths, max_chars, max_chunks)] == groups


def clips(group: range) -> Spoken:
    return [(Clip(np.full(10, float(index), dtype=np.float32), 24_000), [f"said {index}"]) for index in group]


def test_one_call_a_group_each_chunk_gets_its_own_clip() -> None:
    calls: list[range] = []

    async def speak(group: range) -> Spoken:
        calls.append(group)
        await asyncio.sleep(0)
        return clips(group)

    async def main() -> list[tuple[float, list[str]]]:
        async with ChunkGroups([range(0, 3), range(3, 4)], speak) as groups:
            assert [groups.covers(i) for i in range(4)] == [True, True, True, False]  # one alone: not a group
            # what hearing each chunk waits for (the progress pace hears it): a group from its first chunk
            assert [groups.waited(i) for i in range(4)] == [range(0, 3), None, None, range(3, 4)]
            heard = await asyncio.gather(*(groups.chunk(i) for i in (2, 0, 1)))
        return [(float(clip.samples[0]), notes) for clip, notes in heard]

    assert asyncio.run(main()) == [(2.0, ["said 2"]), (0.0, ["said 0"]), (1.0, ["said 1"])]
    assert calls == [range(0, 3)]


def test_leaving_early_cancels_the_call_under_way_and_an_error_reaches_every_chunk() -> None:
    cancelled = asyncio.Event()

    async def speak(group: range) -> Spoken:
        if group.start == 2:
            raise RuntimeError("the model failed")
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return clips(group)

    async def main() -> None:
        async with ChunkGroups([range(0, 2), range(2, 4)], speak) as groups:
            for index in (2, 3):
                with pytest.raises(RuntimeError, match="the model failed"):
                    await groups.chunk(index)
            waiting = asyncio.ensure_future(groups.chunk(0))
            await asyncio.sleep(0.01)
        assert cancelled.is_set()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(main())
