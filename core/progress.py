"""Progress of long operations, reported through a callback (the UI shows it, the log records it)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units of ``stage`` (chunks spoken, segments joined, samples encoded)."""

    stage: str
    done: int
    total: int
    audio_seconds: float = 0.0  # audio made so far, where the stage makes audio

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


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
