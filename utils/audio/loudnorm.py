"""EBU R128 loudness normalisation with FFmpeg's ``loudnorm`` filter, in two passes (as ffmpeg-normalize).

The first pass measures integrated loudness, true peak, loudness range (LRA) and the gating
threshold; the second applies them with ``linear=true``. loudnorm stays linear (one gain for the
whole clip) when that meets the targets, and otherwise falls back to its dynamic mode, which is
how a loudness-range target narrower than the clip's own is honoured. The filter works at
192 kHz internally; the result is resampled back to the clip's rate and keeps its length.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.logging
import numpy as np
from av.filter import Graph

from utils.audio.clip import Clip

logger = logging.getLogger(__name__)

# loudnorm only prints its measurements to FFmpeg's log. PyAV routes that log to Python only while a
# level is set, and drops a message identical to the last; both settings are process-wide, so one
# pass at a time changes them and puts them back.
_LOG_LOCK = threading.Lock()
_BLOCK = 1 << 16  # samples pushed into the graph at a time
SILENT_BELOW_LUFS = -70.0  # BS.1770's absolute gate: nothing louder than this counts


@dataclass(frozen=True)
class LoudnessStats:
    """What loudnorm measured: LUFS, dBTP, LU and LUFS; ``offset`` is its suggested gain correction."""

    integrated: float
    true_peak: float
    lra: float
    threshold: float
    offset: float = 0.0


def measure_loudness(clip: Clip) -> LoudnessStats:
    """Integrated loudness, true peak, loudness range and gating threshold (EBU R128, FFmpeg's loudnorm)."""
    _, report = _loudnorm(clip, "I=-24:TP=-2:LRA=7")
    return _stats(report)


def normalize_ebu(
    clip: Clip, target_lufs: float = -24.0, true_peak_db: float = -2.0, lra: float = 7.0
) -> Clip:
    """Bring integrated loudness to ``target_lufs`` with peaks under ``true_peak_db`` and range within ``lra``.

    Silence, and clips too short to measure (under 0.4 s), come back unchanged.
    """
    targets = f"I={target_lufs:g}:TP={true_peak_db:g}:LRA={lra:g}"
    first = _stats(_loudnorm(clip, targets)[1])
    if not math.isfinite(first.integrated) or first.integrated < SILENT_BELOW_LUFS:
        return clip
    measured = (
        f"measured_I={_clamp(first.integrated, -99, 0):.2f}:measured_TP={_clamp(first.true_peak, -99, 99):.2f}"
        f":measured_LRA={_clamp(first.lra, 0, 99):.2f}:measured_thresh={_clamp(first.threshold, -99, 0):.2f}"
        f":offset={_clamp(first.offset, -99, 99):.2f}"
    )
    out, report = _loudnorm(clip, f"{targets}:{measured}:linear=true")
    logger.debug("loudnorm %s: %s", report.get("normalization_type"), targets)
    return out


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high) if math.isfinite(value) else (low if value < 0 else high)


def _stats(report: dict[str, Any]) -> LoudnessStats:
    return LoudnessStats(
        integrated=float(report["input_i"]),
        true_peak=float(report["input_tp"]),
        lra=float(report["input_lra"]),
        threshold=float(report["input_thresh"]),
        offset=float(report["target_offset"]),
    )


def _loudnorm(clip: Clip, options: str) -> tuple[Clip, dict[str, Any]]:
    """Run the clip through loudnorm (then back to its own rate); the audio and loudnorm's JSON report."""
    with _LOG_LOCK:
        previous, skipping = av.logging.get_level(), av.logging.get_skip_repeated()
        av.logging.set_level(av.logging.INFO)
        av.logging.set_skip_repeated(False)  # measuring one clip twice prints the same report twice
        try:
            with av.logging.Capture() as logs:
                samples = _filter(clip, f"{options}:print_format=json")
        finally:
            av.logging.set_skip_repeated(skipping)
            av.logging.set_level(previous)
    texts = [message for _, name, message in logs if name == "loudnorm" and "{" in message]
    if not texts:
        raise RuntimeError("loudnorm printed no measurement")
    text = texts[-1]
    report = json.loads(text[text.index("{") : text.rindex("}") + 1])
    return Clip(samples, clip.sample_rate), report


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
