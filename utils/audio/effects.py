"""Pure operations on clips: resampling, silence, trimming, cutting silences, loudness."""

from __future__ import annotations

import numpy as np
import soxr

from utils.audio.clip import Clip


def resample(clip: Clip, rate: int) -> Clip:
    """The clip at another sample rate (SoX's high-quality resampler)."""
    if rate == clip.sample_rate:
        return clip
    return Clip(soxr.resample(clip.samples, clip.sample_rate, rate, quality="HQ"), rate)


def change_speed(clip: Clip, factor: float) -> Clip:
    """Play ``factor`` times faster (2.0 halves the duration), keeping the pitch (Rubber Band).

    Chosen over audiostretchy on measurements (bench/speed_compare.py): exact durations, pitch
    within 3 %, no padding to trim, float32 in and out.
    """
    if factor == 1.0 or clip.samples.size == 0:
        return clip
    import pedalboard

    out = pedalboard.time_stretch(clip.samples.astype(np.float32), clip.sample_rate, stretch_factor=factor)
    return Clip(out.reshape(-1), clip.sample_rate)


def silence(seconds: float, rate: int) -> Clip:
    """A clip of digital silence."""
    return Clip(np.zeros(round(seconds * rate), dtype=np.float32), rate)


def trim_silence(
    clip: Clip,
    *,
    min_silence_ms: float = 200.0,
    keep_ms: float = 50.0,
    top_db: float = 40.0,
    window_ms: float = 10.0,
) -> Clip:
    """Cut leading and trailing silence longer than ``min_silence_ms`` down to ``keep_ms`` (Plus's trim).

    Silence is a window whose RMS level is more than ``top_db`` below the clip's loudest window,
    so quiet recordings are judged against themselves. Silence inside the clip is left alone,
    and a clip that is silent throughout is returned as it was.
    """
    start, end = trim_bounds(
        clip, min_silence_ms=min_silence_ms, keep_ms=keep_ms, top_db=top_db, window_ms=window_ms
    )
    return clip if (start, end) == (0, len(clip.samples)) else Clip(clip.samples[start:end], clip.sample_rate)


def trim_bounds(
    clip: Clip, *, min_silence_ms: float, keep_ms: float = 50.0, top_db: float = 40.0, window_ms: float = 10.0
) -> tuple[int, int]:
    """The sample range ``trim_silence`` keeps."""
    window = max(1, int(clip.sample_rate * window_ms / 1000))
    frames = len(clip.samples) // window
    if frames == 0:
        return 0, len(clip.samples)
    blocks = clip.samples[: frames * window].reshape(frames, window)
    rms = np.sqrt(np.mean(blocks.astype(np.float64) ** 2, axis=1))
    if rms.max() == 0.0:
        return 0, len(clip.samples)
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-top_db / 20))
    rate = clip.sample_rate
    lead, tail = loud[0] * window, len(clip.samples) - (loud[-1] + 1) * window
    keep, longest = int(rate * keep_ms / 1000), rate * min_silence_ms / 1000
    start = lead - keep if lead > longest else 0
    end = len(clip.samples) - (tail - keep if tail > longest else 0)
    return int(start), int(end)


def cut_silences(
    clip: Clip, *, threshold: float = 0.06, margin: float = 0.2, window_ms: float = 10.0
) -> Clip:
    """Shorten every silence inside the clip that is longer than ``2 * margin`` to ``2 * margin`` (auto-editor).

    Silence is a run of ``window_ms`` windows whose peak stays below ``threshold`` (a fraction of
    full scale); ``margin`` seconds of it stay after the sound before it and before the sound after
    it. Leading and trailing silence is left to :func:`trim_silence`; a clip with no sound above
    the threshold comes back unchanged.
    """
    window = max(1, int(clip.sample_rate * window_ms / 1000))
    count = len(clip.samples)
    frames = -(-count // window)
    padded = np.zeros(frames * window, dtype=np.float32)
    padded[:count] = np.abs(clip.samples)
    loud = np.flatnonzero(padded.reshape(frames, window).max(axis=1) >= threshold)
    keep = np.ones(count, dtype=bool)
    kept = round(margin * clip.sample_rate)
    for gap in np.flatnonzero(np.diff(loud) > 1):  # quiet windows between two loud ones
        # to the sample: from after the last loud sample before the gap to the first one after it
        before = padded[loud[gap] * window : (loud[gap] + 1) * window]
        after = padded[loud[gap + 1] * window : (loud[gap + 1] + 1) * window]
        start = loud[gap] * window + int(np.flatnonzero(before >= threshold)[-1]) + 1
        end = loud[gap + 1] * window + int(np.flatnonzero(after >= threshold)[0])
        if end - start > 2 * kept:
            keep[start + kept : end - kept] = False
    return clip if keep.all() else Clip(clip.samples[keep], clip.sample_rate)


def normalize_peak(clip: Clip, peak_db: float = -1.0) -> Clip:
    """Scale so the loudest sample sits at ``peak_db`` dBFS (silence stays silence)."""
    peak = float(np.max(np.abs(clip.samples))) if clip.samples.size else 0.0
    if peak == 0.0:
        return clip
    return Clip(clip.samples * (10 ** (peak_db / 20) / peak), clip.sample_rate)


def loudness(clip: Clip) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4); -inf for silence or clips under 0.4 s."""
    import pyloudnorm

    if clip.duration < 0.4:
        return float("-inf")
    return float(pyloudnorm.Meter(clip.sample_rate).integrated_loudness(clip.samples.astype(np.float64)))


def normalize_loudness(clip: Clip, target_lufs: float = -23.0, true_peak_db: float = -1.0) -> Clip:
    """Bring integrated loudness to ``target_lufs`` (EBU R128), never letting peaks pass ``true_peak_db``."""
    current = loudness(clip)
    if not np.isfinite(current):
        return clip
    gain = 10 ** ((target_lufs - current) / 20)
    samples = clip.samples * gain
    ceiling = 10 ** (true_peak_db / 20)
    peak = float(np.max(np.abs(samples)))
    if peak > ceiling:  # a plain gain change: pull it back under the ceiling rather than clip
        samples = samples * (ceiling / peak)
    return Clip(samples.astype(np.float32), clip.sample_rate)
