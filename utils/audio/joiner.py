"""Joining pieces of audio one after another without holding the whole result in memory."""

from __future__ import annotations

import numpy as np


class Joiner:
    """Append pieces in order; get back the samples that are final as soon as they are.

    Only the last ``hold`` samples are kept back, so the next piece can crossfade into them.
    Each crossfade of ``n`` samples shortens the total by ``n``.
    """

    def __init__(self, hold: int = 0) -> None:
        self.hold = max(0, hold)
        self._tail = np.zeros(0, dtype=np.float32)
        self.frames = 0  # samples emitted so far

    def add(self, samples: np.ndarray, *, crossfade: int = 0) -> np.ndarray:
        """Append ``samples``, their first ``crossfade`` samples (at most ``hold``) faded over the tail."""
        samples = np.asarray(samples, dtype=np.float32)
        fade = min(crossfade, self.hold, len(self._tail), len(samples))
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            seam = self._tail[-fade:] * (1.0 - ramp) + samples[:fade] * ramp
            joined = np.concatenate([self._tail[:-fade], seam, samples[fade:]])
        else:
            joined = np.concatenate([self._tail, samples])
        cut = max(0, len(joined) - self.hold)
        self._tail = joined[cut:]
        return self._emit(joined[:cut])

    def finish(self) -> np.ndarray:
        """Everything still held back."""
        tail, self._tail = self._tail, np.zeros(0, dtype=np.float32)
        return self._emit(tail)

    def _emit(self, samples: np.ndarray) -> np.ndarray:
        self.frames += len(samples)
        return samples
