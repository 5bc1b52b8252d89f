"""Concatenation: a recipe of audio files and silences joined into one stream, segment by segment.

Only one decoded segment is in memory at a time; the joined audio goes straight to the sinks
(the encoders), so a two-hour job needs little more memory than its longest segment.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.progress import Progress, ProgressCallback
from exceptions import InvalidRequestError
from utils.audio import Clip, decode, resample, trim_silence
from utils.audio.joiner import Joiner
from utils.audio.meter import LoudnessMeter

SILENCE_RANGE = (0.05, 10.0)  # seconds
_SILENCE = re.compile(r"^\(\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*\)$", re.IGNORECASE)
BLOCK_SECONDS = 10.0  # sinks get at most this much audio per call

Sink = Callable[[np.ndarray], None]


@dataclass(frozen=True)
class ConcatItem:
    """One entry of a recipe: an audio file, or a silence of ``silence`` seconds."""

    label: str  # as the request wrote it, for the recorded recipe
    param: str  # where the request named it, for errors: ``files[3]``, ``segments[0]``
    path: Path | None = None
    silence: float | None = None

    @property
    def is_silence(self) -> bool:
        return self.silence is not None


@dataclass(frozen=True)
class ConcatOptions:
    """How the items are joined."""

    crossfade_ms: float = 0.0  # where two audio segments meet
    pause_ms: float = 0.0  # automatic pause between audio segments
    pause_variation_ms: float = 200.0  # each pause is pause_ms +/- up to this (never below 0)
    seed: int = 0
    trim: bool = False
    trim_threshold_ms: float = 200.0
    level: bool = True  # bring every segment to normalize_level LUFS before joining
    normalize: bool = False  # bring the whole result to normalize_level LUFS
    normalize_level: float = -23.0
    normalize_tp: float = -1.0  # peak ceiling, dBFS


@dataclass
class Recipe:
    """What was done, item by item: recorded with the output."""

    sample_rate: int
    items: list[dict[str, Any]] = field(default_factory=list)
    frames: int = 0
    gain_db: float = 0.0  # whole-result normalisation


def parse_silence(token: str, *, param: str) -> float | None:
    """Seconds for a silence token such as ``(500ms)`` or ``(1.5s)``; None when ``token`` is not one.

    Anything in parentheses is meant as a silence, so a malformed one is an error, not a file name.
    """
    text = token.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return None
    match = _SILENCE.match(text)
    if match is None:
        raise InvalidRequestError(
            f"{param}: {token!r} is not a silence; write it like '(500ms)' or '(1.5s)'", param=param
        )
    seconds = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
    low, high = SILENCE_RANGE
    if not low <= seconds <= high:
        raise InvalidRequestError(
            f"{param}: silence {token!r} is out of range; use {low * 1000:g} ms to {high:g} s", param=param
        )
    return seconds


def plan_gaps(items: Sequence[ConcatItem], options: ConcatOptions) -> list[float]:
    """Seconds of automatic pause before each item: only between two audio segments (a manual
    silence replaces the pause at its gap), ``pause_ms`` +/- a seeded random variation."""
    rng = random.Random(options.seed)
    spread = min(options.pause_variation_ms, options.pause_ms)
    gaps = [0.0] * len(items)
    for i in range(1, len(items)):
        if options.pause_ms > 0 and not items[i - 1].is_silence and not items[i].is_silence:
            gaps[i] = round(options.pause_ms + rng.uniform(-spread, spread)) / 1000
    return gaps


def join(
    items: Sequence[ConcatItem],
    options: ConcatOptions,
    sample_rate: int,
    sink: Sink,
    progress: ProgressCallback | None = None,
) -> Recipe:
    """Decode, trim, level and resample each item in turn and feed the joined audio to ``sink``."""
    gaps = plan_gaps(items, options)
    fade = int(sample_rate * options.crossfade_ms / 1000)
    joiner = Joiner(hold=fade)
    recipe = Recipe(sample_rate)
    for index, item in enumerate(items):
        entry: dict[str, Any] = {"index": index, "source": item.label}
        if gaps[index]:
            _feed(sink, joiner.add(np.zeros(round(gaps[index] * sample_rate), np.float32)))
            entry["pause_before_seconds"] = gaps[index]
        if item.is_silence:
            assert item.silence is not None
            samples = np.zeros(round(item.silence * sample_rate), np.float32)
            entry |= {"type": "silence", "duration_seconds": item.silence}
            _feed(sink, joiner.add(samples))
        else:
            clip, details = _segment(item, options, sample_rate)
            touching = index > 0 and not items[index - 1].is_silence and not gaps[index]
            entry |= {"type": "audio", **details}
            if touching and fade:
                entry["crossfade_seconds"] = round(min(fade, len(clip.samples), joiner.hold) / sample_rate, 4)
            _feed(sink, joiner.add(clip.samples, crossfade=fade if touching else 0))
        recipe.items.append(entry)
        if progress is not None:
            progress(Progress("join", index + 1, len(items)))
    _feed(sink, joiner.finish())
    recipe.frames = joiner.frames
    return recipe


def blocks(samples: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """``samples`` in pieces of at most ``size``."""
    for start in range(0, len(samples), max(1, size)):
        yield samples[start : start + size]


def _feed(sink: Sink, samples: np.ndarray) -> None:
    if samples.size:
        sink(samples)


def _segment(item: ConcatItem, options: ConcatOptions, rate: int) -> tuple[Clip, dict[str, Any]]:
    assert item.path is not None
    clip = decode(item.path, param=item.param)
    details: dict[str, Any] = {
        "duration_seconds": round(clip.duration, 4),
        "sample_rate": clip.sample_rate,
    }
    if options.trim:
        trimmed = trim_silence(clip, min_silence_ms=options.trim_threshold_ms)
        details["trimmed_seconds"] = round(clip.duration - trimmed.duration, 4)
        clip = trimmed
    if options.level:
        meter = LoudnessMeter(clip.sample_rate)
        meter.feed(clip.samples)
        gain = meter.gain_to(options.normalize_level, options.normalize_tp)
        if gain != 1.0:
            clip = Clip(clip.samples * np.float32(gain), clip.sample_rate)
        details["gain_db"] = round(20 * np.log10(gain), 2)
    clip = resample(clip, rate)
    details["used_seconds"] = round(clip.duration, 4)
    return clip, details
