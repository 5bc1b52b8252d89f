"""The post-processing chain applied after generation, in a fixed order: speed, trim, auto-editor, loudness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from utils.audio.clip import Clip
from utils.audio.effects import change_speed, cut_silences, normalize_peak, trim_bounds
from utils.audio.loudnorm import normalize_ebu


@dataclass(frozen=True)
class TimeMap:
    """Where a moment of the generated audio lands in the post-processed audio (speed, then trim)."""

    scale: float = 1.0  # processed seconds per generated second
    shift: float = 0.0  # seconds cut from the start
    duration: float = 0.0  # of the processed audio

    def __call__(self, seconds: float) -> float:
        return min(max(seconds * self.scale - self.shift, 0.0), self.duration)


@dataclass(frozen=True)
class PostProcessing:
    """What to do to generated audio before it is encoded."""

    speed_factor: float = 1.0
    trim: bool = False
    trim_threshold_ms: float = 200.0  # leading/trailing silence longer than this is cut to 50 ms
    normalize: Literal["ebu", "peak"] | None = None
    normalize_level: float = -24.0  # LUFS for ebu, dBFS for peak
    normalize_true_peak: float = -2.0  # dBFS ceiling for ebu
    normalize_lra: float = 7.0  # loudness range target for ebu, LU
    auto_editor: bool = False  # shorten silences inside the audio
    ae_threshold: float = 0.06  # below this peak (fraction of full scale) is silence
    ae_margin: float = 0.2  # seconds of silence kept next to sound
    keep_original: bool = False  # with auto_editor: also return the audio without it

    def apply(self, clip: Clip) -> Clip:
        """Run the chain."""
        return self.run(clip)[0]

    def run(self, clip: Clip) -> tuple[Clip, Clip | None]:
        """Run the chain; second, the same chain without auto-editor when ``keep_original`` asks for it."""
        processed, original, _ = self.run_timed(clip)
        return processed, original

    def run_timed(self, clip: Clip) -> tuple[Clip, Clip | None, TimeMap | None]:
        """``run``, and how times move (None when auto-editor cut silences inside the audio)."""
        before = clip.duration
        clip = change_speed(clip, self.speed_factor)
        scale = clip.duration / before if before else 1.0
        shift = 0.0
        if self.trim:
            start, end = trim_bounds(clip, min_silence_ms=self.trim_threshold_ms)
            shift = start / clip.sample_rate
            clip = Clip(clip.samples[start:end], clip.sample_rate)
        if not self.auto_editor:
            return self._loudness(clip), None, TimeMap(scale, shift, clip.duration)
        edited = cut_silences(clip, threshold=self.ae_threshold, margin=self.ae_margin)
        return self._loudness(edited), self._loudness(clip) if self.keep_original else None, None

    def _loudness(self, clip: Clip) -> Clip:
        if self.normalize == "ebu":
            return normalize_ebu(clip, self.normalize_level, self.normalize_true_peak, self.normalize_lra)
        if self.normalize == "peak":
            return normalize_peak(clip, self.normalize_level)
        return clip
