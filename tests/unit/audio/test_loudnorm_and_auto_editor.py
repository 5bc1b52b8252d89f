"""EBU loudness normalisation (FFmpeg loudnorm, two passes) and auto-editor's silence cutting."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.audio.test_codecs import tone
from utils.audio import Clip, concatenate, cut_silences, loudness, measure_loudness, normalize_ebu, silence


def _levels(*amplitudes: float, seconds: float = 4.0, rate: int = 24000) -> Clip:
    """A tone that steps through the given amplitudes: a clip with a wide loudness range."""
    return concatenate([Clip(tone(seconds, rate).samples * (a / 0.4), rate) for a in amplitudes])


@pytest.mark.parametrize("rate", [22050, 24000, 44100])
def test_a_quiet_clip_reaches_the_target_keeping_rate_and_length(rate: int) -> None:
    quiet = _levels(0.01, 0.02, seconds=3.0, rate=rate)
    assert loudness(quiet) < -36
    out = normalize_ebu(quiet, target_lufs=-16.0, true_peak_db=-1.5, lra=7.0)
    assert out.sample_rate == rate and len(out.samples) == len(quiet.samples)
    assert loudness(out) == pytest.approx(-16.0, abs=1.0)  # pyloudnorm, an independent meter
    assert measure_loudness(out).integrated == pytest.approx(-16.0, abs=1.0)
    assert measure_loudness(out).true_peak <= -1.5 + 0.2


def test_a_small_loudness_range_target_narrows_a_wide_clip() -> None:
    wide = _levels(0.5, 0.06, 0.25, 0.03, 0.12)
    before = measure_loudness(wide).lra
    assert before > 15
    narrowed = normalize_ebu(wide, target_lufs=-20.0, true_peak_db=-1.0, lra=3.0)
    loose = normalize_ebu(wide, target_lufs=-20.0, true_peak_db=-1.0, lra=50.0)
    assert measure_loudness(narrowed).lra < before - 4  # dynamic mode compressed it
    assert measure_loudness(loose).lra == pytest.approx(before, abs=0.5)  # one linear gain
    assert measure_loudness(loose).integrated == pytest.approx(-20.0, abs=0.5)


def test_silence_and_very_short_clips_come_back_unchanged() -> None:
    assert not normalize_ebu(silence(2.0, 24000)).samples.any()
    short = Clip(tone(0.3).samples * 0.01, 24000)
    assert np.array_equal(normalize_ebu(short, target_lufs=-10.0).samples, short.samples)


def _gap(seconds: float, *, rate: int = 24000, floor: float = 0.0) -> Clip:
    """1 s of tone, ``seconds`` of silence (or noise at ``floor``), 1 s of tone."""
    quiet = np.random.default_rng(0).uniform(-floor, floor, int(seconds * rate)).astype(np.float32)
    return concatenate([tone(1.0, rate), Clip(quiet, rate), tone(1.0, rate)])


def test_a_long_inner_silence_is_cut_to_twice_the_margin() -> None:
    assert cut_silences(_gap(2.0), margin=0.2).duration == pytest.approx(2.4, abs=0.002)
    assert cut_silences(_gap(2.0), margin=0.5).duration == pytest.approx(3.0, abs=0.002)
    assert cut_silences(_gap(2.0), margin=0.0).duration == pytest.approx(2.0, abs=0.002)
    out = cut_silences(_gap(2.0, rate=22050), margin=0.2)
    assert out.sample_rate == 22050 and out.duration == pytest.approx(2.4, abs=0.002)


def test_the_sound_itself_is_kept_whole() -> None:
    out = cut_silences(_gap(2.0), margin=0.2)
    assert np.count_nonzero(np.abs(out.samples) > 0.01) == np.count_nonzero(np.abs(_gap(2.0).samples) > 0.01)


def test_short_silences_edges_and_all_quiet_clips_are_left_alone() -> None:
    assert cut_silences(_gap(0.3), margin=0.2).duration == pytest.approx(2.3, abs=1e-6)
    edged = concatenate([silence(1.0, 24000), tone(1.0), silence(1.0, 24000)])
    assert cut_silences(edged).duration == pytest.approx(3.0, abs=1e-6)  # edges are trim's job
    assert cut_silences(silence(2.0, 24000)).duration == pytest.approx(2.0, abs=1e-6)


def test_the_threshold_decides_what_counts_as_silence() -> None:
    noisy = _gap(2.0, floor=0.03)
    assert cut_silences(noisy, threshold=0.06, margin=0.2).duration == pytest.approx(2.4, abs=0.002)
    assert cut_silences(noisy, threshold=0.01, margin=0.2).duration == pytest.approx(4.0, abs=1e-6)
    assert cut_silences(noisy, threshold=0.5).duration == pytest.approx(4.0, abs=1e-6)  # nothing is loud
