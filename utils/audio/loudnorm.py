"""EBU R128 loudness normalisation with FFmpeg's ``loudnorm`` filter, in two passes (as ffmpeg-normalize).

The first pass measures integrated loudness, true peak, loudness range (LRA) and the gating
threshold (libebur128, the reference implementation of EBU R128) and runs loudnorm once to learn
how far it lands from the target (its "target offset"); the second gives all that to loudnorm
with ``linear=true``. loudnorm stays linear (one gain for the whole clip) when that meets
the targets, and otherwise falls back to its dynamic mode, which is how a loudness-range target
narrower than the clip's own is honoured. The filter works at 192 kHz internally; the result is
resampled back to the clip's rate and keeps its length.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.filter import Graph

from utils.audio.clip import Clip
from utils.audio.meter import LoudnessMeter

logger = logging.getLogger(__name__)

_BLOCK = 1 << 16  # samples pushed into the graph at a time
SILENT_BELOW_LUFS = -70.0  # BS.1770's absolute gate: nothing louder than this counts


@dataclass(frozen=True)
class LoudnessStats:
    """A clip's loudness: integrated (LUFS), true peak (dBTP), range (LU), relative gate (LUFS)."""

    integrated: float
    true_peak: float
    lra: float
    threshold: float


def measure_loudness(clip: Clip) -> LoudnessStats:
    """Integrated loudness, true peak, loudness range and gating threshold (EBU R128)."""
    meter = LoudnessMeter(clip.sample_rate, full=True)
    meter.feed(clip.samples)
    return LoudnessStats(meter.integrated, meter.true_peak_db, meter.loudness_range, meter.threshold)


def normalize_ebu(
    clip: Clip, target_lufs: float = -24.0, true_peak_db: float = -2.0, lra: float = 7.0
) -> Clip:
    """Bring integrated loudness to ``target_lufs`` with peaks under ``true_peak_db`` and range within ``lra``.

    Silence, and clips too short to measure (under 0.4 s), come back unchanged.
    """
    targets = f"I={target_lufs:g}:TP={true_peak_db:g}:LRA={lra:g}"
    if clip.duration < 0.4:
        return clip
    first = measure_loudness(clip)
    if not math.isfinite(first.integrated) or first.integrated < SILENT_BELOW_LUFS:
        return clip
    # What loudnorm calls target_offset: how far its own first (dynamic) pass lands from the target.
    trial = measure_loudness(Clip(_filter(clip, targets), clip.sample_rate)).integrated
    offset = target_lufs - trial if math.isfinite(trial) else 0.0
    measured = (
        f"measured_I={_clamp(first.integrated, -99, 0):.2f}:measured_TP={_clamp(first.true_peak, -99, 99):.2f}"
        f":measured_LRA={_clamp(first.lra, 0, 99):.2f}:measured_thresh={_clamp(first.threshold, -99, 0):.2f}"
        f":offset={_clamp(offset, -99, 99):.2f}"
    )
    logger.debug("loudnorm %s with %s", targets, measured)
    return Clip(_filter(clip, f"{targets}:{measured}:linear=true"), clip.sample_rate)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high) if math.isfinite(value) else (low if value < 0 else high)


def _filter(clip: Clip, options: str) -> np.ndarray:
    rate = clip.sample_rate
    graph = Graph()
    chain = [
        graph.add_abuffer(format="flt", sample_rate=rate, layout="mono", time_base=Fraction(1, rate)),
        graph.add("loudnorm", options),
        graph.add("aresample", str(rate)),
        graph.add("aformat", f"sample_fmts=flt:sample_rates={rate}:channel_layouts=mono"),
        graph.add("abuffersink"),
    ]
    for source, sink in itertools.pairwise(chain):
        source.link_to(sink)
    graph.configure()
    parts: list[np.ndarray] = []
    samples = np.ascontiguousarray(clip.samples, dtype=np.float32)
    for start in range(0, len(samples), _BLOCK):
        frame = av.AudioFrame.from_ndarray(samples[None, start : start + _BLOCK], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        graph.push(frame)
        _drain(graph, parts)
    graph.push(None)
    _drain(graph, parts)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _drain(graph: Graph, parts: list[np.ndarray]) -> None:
    while True:
        try:
            frame = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return
        parts.append(frame.to_ndarray().reshape(-1).astype(np.float32, copy=False))
