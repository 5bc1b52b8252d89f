"""Choosing the best of several takes of one chunk by what Whisper hears in each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from utils.audio import Clip


@dataclass(frozen=True)
class Take:
    """One generation of a chunk and what was heard in it."""

    clip: Clip
    index: int
    transcript: str
    score: float


@dataclass(frozen=True)
class TakeChoice:
    """The kept take, how many were made, and whether it matched the text."""

    take: Take
    takes: int
    passed: bool


async def choose_take(
    generate: Callable[[int], Awaitable[Clip]],
    check: Callable[[Clip], Awaitable[tuple[str, float]]],
    *,
    candidates: int,
    attempts: int,
    min_score: float,
    longest_on_fail: bool,
) -> TakeChoice:
    """Make ``candidates`` takes per round, up to ``attempts`` rounds, until one scores ``min_score``.

    Among matching takes the shortest wins (no trailing babble); when none match, the one with the
    longest transcript (``longest_on_fail``) or the best score is kept, and reported as failed.
    """
    takes: list[Take] = []
    for round_ in range(attempts):
        for k in range(candidates):
            index = round_ * candidates + k
            clip = await generate(index)
            transcript, score = await check(clip)
            takes.append(Take(clip, index, transcript, score))
        passing = [t for t in takes if t.score >= min_score]
        if passing:
            return TakeChoice(min(passing, key=lambda t: len(t.clip.samples)), len(takes), True)
    if longest_on_fail:
        best = max(takes, key=lambda t: (len(t.transcript), t.score))
    else:
        best = max(takes, key=lambda t: t.score)
    return TakeChoice(best, len(takes), False)
