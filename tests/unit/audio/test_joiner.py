"""Joining pieces as a stream: the same samples as joining them whole, with bounded hold-back."""

from __future__ import annotations

import numpy as np

from utils.audio import Clip, concatenate
from utils.audio.joiner import Joiner


def test_streamed_join_equals_the_whole_join_with_crossfades() -> None:
    rng = np.random.default_rng(0)
    pieces = [rng.standard_normal(n).astype(np.float32) for n in (5000, 300, 8000, 2000)]
    joiner = Joiner(hold=480)
    out = [joiner.add(piece, crossfade=480) for piece in pieces]
    streamed = np.concatenate([*out, joiner.finish()])
    whole = concatenate([Clip(p, 24000) for p in pieces], crossfade_ms=20).samples
    # a seam overlaps 480 samples, or less when the incoming piece is shorter (the 300-sample one)
    assert len(streamed) == joiner.frames == sum(map(len, pieces)) - (300 + 480 + 480)
    np.testing.assert_allclose(streamed, whole, atol=1e-6)


def test_only_the_crossfade_tail_is_held_back() -> None:
    joiner = Joiner(hold=100)
    assert len(joiner.add(np.ones(1000, np.float32))) == 900
    assert len(joiner.add(np.ones(50, np.float32), crossfade=0)) == 50
    assert len(joiner.finish()) == 100 and joiner.frames == 1050


def test_a_crossfade_never_reaches_past_either_piece() -> None:
    joiner = Joiner(hold=1000)
    joiner.add(np.ones(200, np.float32))
    joiner.add(np.ones(300, np.float32), crossfade=1000)  # only 200 samples can overlap
    assert len(joiner.finish()) == 300 and joiner.frames == 300
