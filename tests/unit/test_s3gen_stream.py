"""S3Gen as a stream (engines/s3gen_stream.py): windows of a chunk's tokens, sent while T3 decodes.

A stand-in vocoder whose audio for a token depends only on the token (here: its position), as
S3Gen's nearly does, with S3Gen's silent fade-in at the start of every call: the windows must add up
to the whole chunk's audio, with the fade-ins and the held-back ends never heard.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engines.s3gen_stream import FADE, FIRST_WINDOW, HOLD, SAMPLES_PER_TOKEN, TokenFeed, WindowedAudio

RATE = 24_000


def _vocoder(offsets: list[float] | None = None):  # type: ignore[no-untyped-def]
    """Token ``i`` sounds as a 90 Hz tone over samples ``i*960..``; each call may shift the level."""
    calls: list[list[int]] = []

    def vocode(tokens: list[int]) -> np.ndarray:
        calls.append(tokens)
        t = (
            np.concatenate([np.arange(k * SAMPLES_PER_TOKEN, (k + 1) * SAMPLES_PER_TOKEN) for k in tokens])
            / RATE
        )
        audio = 0.3 * np.sin(2 * np.pi * 90 * t) + (offsets[len(calls) - 1] if offsets else 0.0)
        audio[:FADE] = 0.0  # S3Gen's trim fade: each call starts silent
        return audio.astype(np.float32)

    return vocode, calls


def _stream(
    vocode, total: int, arrivals: list[int], **sizes: int
) -> tuple[np.ndarray, list[int], np.ndarray]:  # type: ignore[no-untyped-def]
    """Feed ``arrivals`` (tokens decoded so far) to the windows, then the whole; returns heard, joins, whole."""
    pieces: list[np.ndarray] = []
    windows = WindowedAudio(vocode, pieces.append, **sizes)
    tokens = list(range(total))
    joins = []
    for count in arrivals:
        if count >= windows.wants():
            windows.window(tokens[:count])
            joins.append(windows.sent_samples)
    whole = vocode(tokens)
    windows.finish(whole)
    return np.concatenate(pieces), joins, whole


def test_windows_add_up_to_the_whole_chunk_and_start_after_the_first_window() -> None:
    vocode, calls = _vocoder()
    heard, joins, whole = _stream(vocode, 100, [FIRST_WINDOW, *range(16, 100, 8)])
    assert heard.size == whole.size == 100 * SAMPLES_PER_TOKEN
    np.testing.assert_allclose(heard, whole, atol=1e-6)  # no fade-in of a later window is heard
    # First audio: 12 tokens in (0.48 s of speech), all but the held-back end sent.
    assert len(calls[0]) == FIRST_WINDOW == 12 and joins[0] == (FIRST_WINDOW - HOLD) * SAMPLES_PER_TOKEN
    assert all(
        len(call) <= 8 + 4 + 32 + 8 for call in calls[1:-1]
    )  # context + held + new (+ a check's worth)


def test_windows_that_differ_meet_in_a_crossfade_with_no_jump() -> None:
    offsets = [0.0, 0.1, -0.1, 0.05, 0.0, 0.1, 0.0]  # each vocoding a little off the last
    heard, joins, whole = _stream(_vocoder(offsets)[0], 100, list(range(8, 100, 8)))
    own_step = np.abs(np.diff(whole[FADE * 2 :])).max()  # the signal's own sample-to-sample step
    assert heard.size == whole.size and len(joins) >= 2
    for at in joins:
        assert np.abs(np.diff(heard[at - FADE : at + FADE])).max() <= 1.5 * own_step
    # Without the crossfade the same windows jump at their joins: the check above can fail.
    cut, cut_joins, _ = _stream(_vocoder(offsets)[0], 100, list(range(8, 100, 8)), fade=0)
    assert max(abs(cut[at] - cut[at - 1]) for at in cut_joins) > 2 * own_step


def test_a_chunk_shorter_than_a_window_is_sent_whole() -> None:
    vocode, calls = _vocoder()
    heard, joins, whole = _stream(vocode, 10, [8, 10])
    assert joins == [] and len(calls) == 1 and heard.size == whole.size


def test_the_feed_wakes_a_waiter_when_enough_tokens_come_or_it_closes() -> None:
    feed = TokenFeed(keep=lambda token: token < 100)
    feed.publish([1, 200, 2, 3])
    assert feed.wait(3, timeout=0.01) == ([1, 2, 3], False)  # control tokens are not audio
    assert feed.wait(10, timeout=0.01) == ([1, 2, 3], False)  # timed out
    feed.close()
    assert feed.wait(10, timeout=5) == ([1, 2, 3], True)


def test_a_held_first_window_lets_t3_go_once_it_is_out_or_cannot_be_made() -> None:
    """``hold`` pauses T3 only while a first window is due and the listener waits."""
    wanted = threading.Event()
    feed = TokenFeed(keep=lambda token: token < 100, wanted=wanted)
    assert not feed.urgent  # nobody listens yet: no hurry
    wanted.set()
    assert feed.urgent
    feed.publish([1, 2, 200], hold=True)  # too few audio tokens for a first window: no hold
    assert not feed.held and feed.wait_released(0.01)
    feed.publish(list(range(FIRST_WINDOW)), hold=True)
    assert feed.held and not feed.wait_released(0.01)
    feed.release(unless_enough=FIRST_WINDOW)  # a window for these is still to come: T3 keeps waiting
    assert feed.held
    feed.release(started=True)
    assert feed.wait_released(0.01) and not feed.urgent


def test_a_hold_shorter_than_the_crossfade_is_refused() -> None:
    with pytest.raises(ValueError, match="crossfade"):
        WindowedAudio(_vocoder()[0], lambda _: None, hold=0)
