"""Loudness measured as audio streams past (libebur128), for jobs too long to hold in memory."""

from __future__ import annotations

import math

import numpy as np
import pyebur128


class LoudnessMeter:
    """Integrated loudness (EBU R128 / ITU-R BS.1770) and sample peak of mono audio fed in blocks."""

    def __init__(self, sample_rate: int) -> None:
        self._state = pyebur128.R128State(1, sample_rate, pyebur128.MeasurementMode.MODE_I)
        self.peak = 0.0
        self.frames = 0

    def feed(self, samples: np.ndarray) -> None:
        """Measure more samples."""
        if samples.size == 0:
            return
        self._state.add_frames(np.ascontiguousarray(samples, dtype=np.float32), samples.size)
        self.peak = max(self.peak, float(np.max(np.abs(samples))))
        self.frames += samples.size

    @property
    def integrated(self) -> float:
        """Integrated loudness in LUFS; -inf for silence or audio under 0.4 s."""
        value = float(pyebur128.get_loudness_global(self._state))
        return value if math.isfinite(value) else float("-inf")

    def gain_to(self, target_lufs: float, ceiling_db: float) -> float:
        """The linear gain reaching ``target_lufs``, lowered so the peak stays under ``ceiling_db`` dBFS."""
        current = self.integrated
        if not math.isfinite(current) or self.peak == 0.0:
            return 1.0
        gain = 10 ** ((target_lufs - current) / 20)
        return min(gain, 10 ** (ceiling_db / 20) / self.peak)
