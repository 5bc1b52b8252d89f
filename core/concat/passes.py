"""Running a concatenation to files: check every item first, then join and encode in one stream.

Without whole-result normalisation the joined audio goes straight to the encoders. With it, a
first pass writes float samples to a temporary file while measuring loudness, and a second pass
reads them back in blocks with the gain applied. Either way memory holds one segment, not the
result.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.concat.recipe import BLOCK_SECONDS, ConcatItem, ConcatOptions, Recipe, Sink, blocks, join
from core.progress import Progress, ProgressCallback
from exceptions import InvalidRequestError
from utils.audio.formats import AudioFormat
from utils.audio.meter import LoudnessMeter
from utils.audio.probe import probe
from utils.audio.writers import FileEncoders


@dataclass(frozen=True)
class ConcatPlan:
    """Checked items and the one sample rate they are joined at (the highest among them)."""

    items: tuple[ConcatItem, ...]
    sample_rate: int


def plan(items: Sequence[ConcatItem]) -> ConcatPlan:
    """Read every audio item's header before any work: a bad item fails the request up front."""
    rates = [probe(item.path, param=item.param).sample_rate for item in items if item.path is not None]
    if not rates:
        param = items[0].param.split("[")[0] if items else "files"
        raise InvalidRequestError("the recipe needs at least one audio file, not only silences", param=param)
    return ConcatPlan(tuple(items), max(rates))


def run(
    job: ConcatPlan,
    options: ConcatOptions,
    targets: dict[AudioFormat, Path],
    *,
    temp_dir: Path,
    progress: ProgressCallback | None = None,
) -> Recipe:
    """Join ``job`` into every target file; returns what was done."""
    rate = job.sample_rate
    encoders = FileEncoders(targets, rate)
    try:
        if options.normalize:
            recipe = _two_passes(job, options, encoders, temp_dir, progress)
        else:
            recipe = join(job.items, options, rate, _blocked(encoders.feed, rate), progress)
        encoders.close()
    except BaseException:
        encoders.abort()
        raise
    return recipe


def _two_passes(
    job: ConcatPlan,
    options: ConcatOptions,
    encoders: FileEncoders,
    temp_dir: Path,
    progress: ProgressCallback | None,
) -> Recipe:
    rate = job.sample_rate
    meter = LoudnessMeter(rate)
    temp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=temp_dir, prefix="concat_") as scratch:

        def keep(samples: np.ndarray) -> None:
            meter.feed(samples)
            scratch.write(np.ascontiguousarray(samples, np.float32).tobytes())

        recipe = join(job.items, options, rate, keep, progress)
        gain = np.float32(meter.gain_to(options.normalize_level, options.normalize_tp))
        recipe.gain_db = round(float(20 * np.log10(gain)), 2)
        scratch.seek(0)
        size = int(rate * BLOCK_SECONDS)
        done = 0
        while data := scratch.read(size * 4):
            block = np.frombuffer(data, np.float32) * gain
            encoders.feed(block)
            done += len(block)
            if progress is not None:
                progress(Progress("normalize", done, recipe.frames))
    return recipe


def _blocked(sink: Sink, rate: int) -> Sink:
    """``sink`` fed in blocks of at most BLOCK_SECONDS (bounded encoder queues stay small)."""
    size = int(rate * BLOCK_SECONDS)

    def feed(samples: np.ndarray) -> None:
        for block in blocks(samples, size):
            sink(block)

    return feed
