"""Progress of long operations, reported through a callback (the UI shows it, the log records it)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units of ``stage`` (chunks spoken, segments joined, samples encoded)."""

    stage: str
    done: int
    total: int
    audio_seconds: float = 0.0  # audio made so far, where the stage makes audio
    within: float = 0.0  # the estimated share of the unit under way (0 to 0.95): moves a long unit

    @property
    def fraction(self) -> float:
        return min(self.done + self.within, self.total) / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]


def reporter(
    callback: ProgressCallback | None, logger: logging.Logger, label: str, *, every: float = 5.0
) -> ProgressCallback:
    """A callback that passes every report on to ``callback`` and logs one every ``every`` seconds
    (and the end of a stage that took longer than that): long jobs show in the log, short ones not."""
    start = last = time.monotonic()

    def report(progress: Progress) -> None:
        nonlocal last
        if callback is not None:
            callback(progress)
        now = time.monotonic()
        if now - last >= every or (progress.done >= progress.total and now - start >= every):
            last = now
            logger.info(
                "%s: %s %d/%d (%.0f%%)",
                label,
                progress.stage,
                progress.done,
                progress.total,
                100 * progress.fraction,
            )

    return report


async def ticking(work: Awaitable[T], on_tick: Callable[[float], None], every: float = 0.5) -> T:
    """Await ``work``, calling ``on_tick(seconds since the start)`` every ``every`` seconds meanwhile."""
    task = asyncio.ensure_future(work)
    started = time.monotonic()
    try:
        while not (await asyncio.wait({task}, timeout=every))[0]:
            on_tick(time.monotonic() - started)
        return task.result()
    finally:
        if not task.done():  # we were cancelled (a client gone): so is the work
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class Pace:
    """Seconds per character each engine took on recent chunks: how far along a chunk under way is.

    An estimate, from wall time (a busy model worker makes it slower); unknown until the engine has
    spoken one chunk since the server started. Seconds and characters are summed with the older
    ones weighing less (``KEEP`` a chunk), so a long chunk counts for more than a short one.
    """

    KEEP = 0.8  # the weight of what was heard before, at each new chunk

    def __init__(self) -> None:
        self._sums: dict[str, tuple[float, float]] = {}  # engine: (seconds, characters)

    def heard(self, engine: str, chars: int, seconds: float) -> None:
        """Chunks of ``chars`` characters in all took ``seconds``."""
        spent, said = self._sums.get(engine, (0.0, 0.0))
        self._sums[engine] = (spent * self.KEEP + seconds, said * self.KEEP + max(chars, 1))

    def share(self, engine: str, chars: int, seconds: float) -> float:
        """The estimated share of a ``chars`` chunk made after ``seconds`` (0 when unknown, at most 0.95)."""
        if engine not in self._sums:
            return 0.0
        spent, said = self._sums[engine]
        expected = max(spent / said, 1e-9) * max(chars, 1)
        return min(0.95, seconds / expected)
