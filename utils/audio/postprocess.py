"""The post-processing chain applied after generation, in a fixed order: speed, trim, loudness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from utils.audio.clip import Clip
from utils.audio.effects import change_speed, normalize_loudness, normalize_peak, trim_silence


@dataclass(frozen=True)
class PostProcessing:
    """What to do to generated audio before it is encoded."""

    speed_factor: float = 1.0
    trim: bool = False
    trim_threshold_ms: float = 200.0  # leading/trailing silence longer than this is cut to 50 ms
    normalize: Literal["ebu", "peak"] | None = None
    normalize_level: float = -24.0  # LUFS for ebu, dBFS for peak
    normalize_true_peak: float = -2.0  # dBFS ceiling for ebu

    def apply(self, clip: Clip) -> Clip:
        """Run the chain."""
        clip = change_speed(clip, self.speed_factor)
        if self.trim:
            clip = trim_silence(clip, min_silence_ms=self.trim_threshold_ms)
        if self.normalize == "ebu":
            clip = normalize_loudness(clip, self.normalize_level, self.normalize_true_peak)
        elif self.normalize == "peak":
            clip = normalize_peak(clip, self.normalize_level)
        return clip
