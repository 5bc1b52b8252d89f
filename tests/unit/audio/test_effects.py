"""Silence, trimming, resampling, loudness and crossfades, measured as a listener would."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.audio.test_codecs import tone
from utils.audio import (
    Clip,
    concatenate,
    loudness,
    normalize_loudness,
    normalize_peak,
    resample,
    silence,
    trim_silence,
)


def test_silence_has_the_exact_length() -> None:
    assert len(silence(1.5, 24000).samples) == 36000
    assert not silence(0.3, 22050).samples.any()


def test_trim_cuts_long_edge_silence_to_50_ms_and_keeps_short_silence() -> None:
    rate = 24000
    clip = concatenate([silence(1.0, rate), tone(1.0, rate), silence(0.15, rate)])
    trimmed = trim_silence(clip, min_silence_ms=200)
    # the 1 s lead is cut to 50 ms; the 150 ms tail is shorter than 200 ms and stays
    assert trimmed.duration == pytest.approx(0.05 + 1.0 + 0.15, abs=0.02)
    assert trim_silence(clip, min_silence_ms=100).duration == pytest.approx(1.1, abs=0.02)
    quiet = Clip(clip.samples * 0.001, rate)  # judged against its own peak, not full scale
    assert trim_silence(quiet, min_silence_ms=200).duration == pytest.approx(1.2, abs=0.02)
    assert trim_silence(silence(1.0, rate)).duration == 1.0


def test_resample_keeps_duration_and_pitch() -> None:
    clip = tone(1.0, 24000, freq=440)
    out = resample(clip, 16000)
    assert out.sample_rate == 16000 and out.duration == pytest.approx(1.0, abs=0.001)
    spectrum = np.abs(np.fft.rfft(out.samples))
    assert np.fft.rfftfreq(len(out.samples), 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=2)


def test_loudness_normalisation_reaches_the_target_without_passing_the_peak_ceiling() -> None:
    quiet = Clip(tone(3.0).samples * 0.05, 24000)
    out = normalize_loudness(quiet, target_lufs=-20.0, true_peak_db=-1.0)
    assert loudness(out) == pytest.approx(-20.0, abs=0.3)
    loud = normalize_loudness(quiet, target_lufs=-3.0, true_peak_db=-6.0)
    assert np.max(np.abs(loud.samples)) <= 10 ** (-6 / 20) + 1e-6


def test_peak_normalisation() -> None:
    out = normalize_peak(Clip(tone().samples * 0.1, 24000), peak_db=-3.0)
    assert np.max(np.abs(out.samples)) == pytest.approx(10 ** (-3 / 20), rel=1e-4)


def test_a_crossfade_shortens_the_total_by_its_length() -> None:
    a, b = tone(1.0), tone(1.0, freq=330)
    assert concatenate([a, b]).duration == pytest.approx(2.0)
    assert concatenate([a, b], crossfade_ms=100).duration == pytest.approx(1.9, abs=1 / 24000)


def test_windows_joined_with_their_overlap_restore_the_length() -> None:
    from utils.audio import windows

    clip = tone(4.6)
    parts = windows(clip, 2.0, 0.1)
    assert [round(p.duration, 2) for p in parts] == [2.0, 2.0, 0.8]
    assert concatenate(parts, crossfade_ms=100).duration == pytest.approx(4.6, abs=1 / 24000)
    assert windows(clip, 60, 0.1) == [clip]
