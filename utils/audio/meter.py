"""Loudness measured as audio streams past (libebur128), for jobs too long to hold in memory."""

from __future__ import annotations

import math

import numpy as np
import pyebur128


class LoudnessMeter:
    """Integrated loudness (EBU R128 / ITU-R BS.1770) and sample peak of mono audio fed in blocks."""

    def __init__(self, sample_rate: int, *, full: bool = False) -> None:
        """``full``: also loudness range and true peak (slower: true peak oversamples)."""
        mode = pyebur128.MeasurementMode.MODE_I
        if full:
            mode |= pyebur128.MeasurementMode.MODE_LRA | pyebur128.MeasurementMode.MODE_TRUE_PEAK
        self._state = pyebur128.R128State(1, sample_rate, mode)
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

    @property
    def loudness_range(self) -> float:
        """Loudness range (LRA) in LU; needs ``full``."""
        return float(pyebur128.get_loudness_range(self._state))

    @property
    def true_peak_db(self) -> float:
        """True peak in dBTP; needs ``full``."""
        peak = float(pyebur128.get_true_peak(self._state, 0))
        return 20 * math.log10(peak) if peak > 0 else float("-inf")

    @property
    def threshold(self) -> float:
        """The relative gate of the integrated measurement, in LUFS."""
        return float(pyebur128.get_relative_threshold(self._state))

    def gain_to(self, target_lufs: float, ceiling_db: float) -> float:
        """The linear gain reaching ``target_lufs``, lowered so the peak stays under ``ceiling_db`` dBFS."""
        current = self.integrated
        if not math.isfinite(current) or self.peak == 0.0:
            return 1.0
        gain = 10 ** ((target_lufs - current) / 20)
        return min(gain, 10 ** (ceiling_db / 20) / self.peak)
