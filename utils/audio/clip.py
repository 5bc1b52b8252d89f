"""The unit of the audio pipeline: mono float32 samples with their sample rate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clip:
    """Mono float32 samples in [-1, 1] and their sample rate."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim == 2:  # (frames, channels) -> mono
            samples = samples.mean(axis=1, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"a clip is 1-D mono audio, got shape {samples.shape}")
        if self.sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {self.sample_rate}")
        object.__setattr__(self, "samples", samples)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate


def windows(clip: Clip, seconds: float, overlap: float) -> list[Clip]:
    """Cut a clip into windows of ``seconds``, each starting ``seconds - overlap`` after the last.

    Joining the windows with ``concatenate(..., crossfade_ms=overlap * 1000)`` restores the length.
    """
    size = max(1, int(seconds * clip.sample_rate))
    lap = min(int(overlap * clip.sample_rate), size - 1)
    if len(clip.samples) <= size:
        return [clip]
    step = size - lap
    starts = range(0, len(clip.samples) - lap, step)
    return [Clip(clip.samples[start : start + size], clip.sample_rate) for start in starts]


def concatenate(clips: Sequence[Clip], crossfade_ms: float = 0.0) -> Clip:
    """Join clips of one sample rate in order, with an optional linear crossfade at each seam."""
    if not clips:
        raise ValueError("nothing to concatenate")
    rate = clips[0].sample_rate
    if any(clip.sample_rate != rate for clip in clips):
        raise ValueError("clips to concatenate must share one sample rate")
    out = clips[0].samples
    for clip in clips[1:]:
        fade = min(int(rate * crossfade_ms / 1000), len(out), len(clip.samples))
        if fade == 0:
            out = np.concatenate([out, clip.samples])
            continue
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        seam = out[-fade:] * (1.0 - ramp) + clip.samples[:fade] * ramp
        out = np.concatenate([out[:-fade], seam, clip.samples[fade:]])
    return Clip(out, rate)
