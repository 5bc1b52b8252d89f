"""The reference-quality report: measurements on known signals, and the warnings they earn."""

from __future__ import annotations

import numpy as np
import pytest

from utils.audio import Clip
from utils.audio.quality import analyze_voice

RATE = 16000


def speech_like(seconds: float, level: float = 0.3, noise: float = 0.0, seed: int = 0) -> Clip:
    """A 180 Hz buzz in syllables (2.5 a second) with pauses between them, plus optional noise."""
    t = np.arange(int(seconds * RATE)) / RATE
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None)
    hiss = np.random.default_rng(seed).normal(0, noise, t.size) if noise else 0
    return Clip((level * envelope * np.sin(2 * np.pi * 180 * t) + hiss).astype(np.float32), RATE)


def test_a_clean_reference_of_good_length_earns_no_warning() -> None:
    quality = analyze_voice(speech_like(8.0))
    assert quality.warnings == []
    assert quality.duration_seconds == 8.0 and quality.sample_rate == RATE
    assert quality.peak_dbfs == pytest.approx(20 * np.log10(0.3), abs=0.2)
    assert quality.rms_dbfs is not None and quality.rms_dbfs < quality.peak_dbfs
    assert quality.loudness_lufs is not None and -30 < quality.loudness_lufs < -10
    assert quality.clipping_ratio == 0 and quality.noise_floor_dbfs is None  # digital silence between words


def test_a_full_scale_sine_measures_as_expected() -> None:
    t = np.arange(RATE * 6) / RATE
    quality = analyze_voice(Clip((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), RATE))
    assert quality.peak_dbfs == pytest.approx(-6.0, abs=0.1)
    assert quality.rms_dbfs == pytest.approx(-9.0, abs=0.1)  # a sine's RMS is 3 dB under its peak
    assert quality.noise_floor_dbfs == pytest.approx(-9.0, abs=0.1)  # no pauses: the floor is the tone


@pytest.mark.parametrize(
    ("clip", "warning"),
    [
        (speech_like(3.0), "short"),
        (speech_like(35.0), "long"),
        (speech_like(8.0, level=2.0), "clipping"),
        (speech_like(8.0, level=0.005), "quiet"),
        (speech_like(8.0, noise=0.02), "noisy"),
        (Clip(np.zeros(RATE * 6, dtype=np.float32), RATE), "silent"),
    ],
)
def test_poor_references_are_warned_about(clip: Clip, warning: str) -> None:
    found = analyze_voice(clip).warnings
    assert [w for w in found if w.startswith(warning)], found


def test_the_report_is_plain_data() -> None:
    report = analyze_voice(speech_like(2.0)).as_dict()
    assert set(report) >= {"duration_seconds", "peak_dbfs", "loudness_lufs", "clipping_ratio", "warnings"}
    assert report["warnings"] and all(isinstance(w, str) for w in report["warnings"])
