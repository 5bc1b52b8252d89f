"""How fit a clip is as a cloning reference: length, level, clipping, background noise, with warnings.

Chatterbox conditions on the first 6 s of the reference (T3) and its first 10 s (S3Gen): a
reference much shorter gives a thin voice, and audio past ~30 s is never heard by the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from utils.audio.clip import Clip
from utils.audio.meter import LoudnessMeter

MIN_SECONDS = 5.0
MAX_SECONDS = 30.0
CLIP_LEVEL = 0.999  # a sample at or above this magnitude counts as clipped
MAX_CLIPPED = 0.001  # share of clipped samples that earns a warning
QUIET_LUFS = -35.0
QUIET_PEAK_DB = -20.0
NOISY_FLOOR_DB = -45.0
_FRAME_SECONDS = 0.05


@dataclass(frozen=True)
class VoiceQuality:
    """A reference clip measured; levels in dBFS (peak, RMS, noise floor) and LUFS (loudness)."""

    duration_seconds: float
    sample_rate: int
    peak_dbfs: float | None  # None: digital silence
    rms_dbfs: float | None
    loudness_lufs: float | None  # None: too short or too quiet to measure
    clipping_ratio: float  # share of samples at full scale
    noise_floor_dbfs: float | None  # level of the quietest 10% of 50 ms frames
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "duration_seconds": self.duration_seconds,
            "sample_rate": self.sample_rate,
            "peak_dbfs": self.peak_dbfs,
            "rms_dbfs": self.rms_dbfs,
            "loudness_lufs": self.loudness_lufs,
            "clipping_ratio": self.clipping_ratio,
            "noise_floor_dbfs": self.noise_floor_dbfs,
            "warnings": list(self.warnings),
        }


def analyze_voice(clip: Clip) -> VoiceQuality:
    """Measure a reference clip and say what would make it a poor voice to clone."""
    samples = clip.samples
    magnitude = np.abs(samples)
    peak = float(magnitude.max()) if samples.size else 0.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    clipped = float(np.count_nonzero(magnitude >= CLIP_LEVEL) / samples.size) if samples.size else 0.0
    meter = LoudnessMeter(clip.sample_rate)
    meter.feed(samples)
    lufs = meter.integrated
    quality = VoiceQuality(
        duration_seconds=round(clip.duration, 3),
        sample_rate=clip.sample_rate,
        peak_dbfs=_db(peak),
        rms_dbfs=_db(rms),
        loudness_lufs=round(lufs, 1) if math.isfinite(lufs) else None,
        clipping_ratio=round(clipped, 5),
        noise_floor_dbfs=_noise_floor(clip),
    )
    return VoiceQuality(**{**quality.__dict__, "warnings": _warnings(quality)})


def _warnings(q: VoiceQuality) -> list[str]:
    found = []
    if q.duration_seconds < MIN_SECONDS:
        found.append(
            f"short: {q.duration_seconds:.1f} s; a reference of 5-10 s of clear speech clones best "
            "(Chatterbox listens to the first 6 s, and 10 s for the timbre)"
        )
    elif q.duration_seconds > MAX_SECONDS:
        found.append(
            f"long: {q.duration_seconds:.1f} s; Chatterbox only uses the first 10 s, so trim it to the "
            "best 10-20 s"
        )
    if q.peak_dbfs is None:
        found.append("silent: the clip holds no sound")
        return found
    if q.clipping_ratio > MAX_CLIPPED:
        found.append(f"clipping: {q.clipping_ratio:.2%} of samples at full scale; distortion will be cloned")
    if (q.loudness_lufs is not None and q.loudness_lufs < QUIET_LUFS) or q.peak_dbfs < QUIET_PEAK_DB:
        level = f"{q.loudness_lufs} LUFS" if q.loudness_lufs is not None else f"peak {q.peak_dbfs} dBFS"
        found.append(f"quiet: {level}; record closer or raise the level (around -20 to -16 LUFS)")
    if q.noise_floor_dbfs is not None and q.noise_floor_dbfs > NOISY_FLOOR_DB:
        found.append(
            f"noisy: background at {q.noise_floor_dbfs} dBFS between words; the noise will be cloned too"
        )
    return found


def _noise_floor(clip: Clip) -> float | None:
    """The level of the quietest 10% of 50 ms frames (the pauses between words)."""
    size = max(1, int(clip.sample_rate * _FRAME_SECONDS))
    frames = len(clip.samples) // size
    if frames < 4:
        return None
    blocks = clip.samples[: frames * size].reshape(frames, size).astype(np.float64)
    levels = np.sqrt(np.mean(np.square(blocks), axis=1))
    return _db(float(np.percentile(levels, 10)))


def _db(value: float) -> float | None:
    return round(20 * math.log10(value), 1) if value > 0 else None
