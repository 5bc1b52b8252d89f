"""S3Gen as a stream: a chunk's audio window by window while T3 still decodes the rest of it.

The scheduler publishes a sequence's tokens at its host syncs (``TokenFeed``, every few steps). Once
the listener wants the chunk in windows (``PartialAudio.wanted``: the first chunk of a stream, or a
later one when the audio already sent runs short, core/windows.py), the engine's thread vocodes a
window of the tokens so far (``WindowedAudio``), as chatterbox-streaming does: each window is
vocoded with a few tokens before it for context (their audio dropped; S3Gen's fade-in falls there
too), its last ``HOLD`` tokens are not sent (their audio still lacks the lookahead the next tokens
give) and are done again by the next window, and two windows meet in a short crossfade. When T3 is done, the whole token sequence is
vocoded once, as without streaming, for the saved file; the stream's last piece is taken from that
whole vocoding, so the streamed audio has exactly the whole clip's length.

The first window decides when the listener hears anything, so it is hurried (``TokenFeed.urgent``):
while the listener wants a chunk in windows and none of its audio is out yet, the scheduler lets no
other sequence join the batch (the chunk's steps cost what a batch of one costs), publishes its
tokens at the very step it has enough for the first window, and holds T3 (``TokenFeed.hold``) while
that window is vocoded, so S3Gen has the cores to itself. A sequence's tokens do not depend on when the others
join, on the pauses or on whether it is windowed, so this changes only timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from engines.base import PartialAudio

SAMPLES_PER_TOKEN = 960  # 24 kHz audio, 25 speech tokens a second
FIRST_WINDOW = 12  # tokens decoded before the first audio is vocoded (0.32 s of it is sent)
WINDOW = 32  # new tokens per later window
CONTEXT = 8  # tokens before a window vocoded again for context (their audio is dropped)
HOLD = 4  # a window's last tokens, not sent: the next window (or the whole) redoes them
FADE = 480  # samples (20 ms) crossfaded where two windows meet


class TokenFeed:
    """One sequence's speech tokens so far, published by the T3 scheduler at its host syncs.

    ``wanted`` is set once the listener wants the chunk in windows; until its first window is out the
    feed is ``urgent``. ``hold`` (the scheduler, when it publishes the first window's tokens) pauses T3 until
    ``release`` (the vocoding thread, once that window is out or cannot be made from what came).
    """

    def __init__(
        self,
        keep: Callable[[int], bool] | None = None,
        wanted: threading.Event | None = None,
        first: int = FIRST_WINDOW,
    ) -> None:
        self._keep = keep  # which tokens are audio (control tokens are not vocoded)
        self._changed = threading.Condition()
        self._wanted = wanted
        self.first = first  # tokens the first window needs
        self.tokens: list[int] = []
        self.closed = False
        self.started = False  # the first window is out
        self.held = False  # T3 waits while the first window is vocoded

    @property
    def urgent(self) -> bool:
        """The listener wants this chunk in windows and has heard none of it yet."""
        return self._wanted is not None and self._wanted.is_set() and not self.started and not self.closed

    def publish(self, tokens: list[int], *, hold: bool = False) -> None:
        """The tokens so far; with ``hold``, T3 waits (``wait_released``) until the window is vocoded."""
        if self._keep is not None:
            tokens = [token for token in tokens if self._keep(token)]
        with self._changed:
            self.tokens = tokens
            self.held = self.held or (hold and len(tokens) >= self.first)
            self._changed.notify_all()

    def release(self, *, started: bool = False, unless_enough: int | None = None) -> None:
        """Let T3 go on (unless ``len(tokens) >= unless_enough``: a window for them is still to come)."""
        with self._changed:
            self.started = self.started or started
            if unless_enough is None or len(self.tokens) < unless_enough:
                self.held = False
                self._changed.notify_all()

    def wait_released(self, timeout: float) -> bool:
        """Whether T3 may go on (waits up to ``timeout`` for the held window)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self.held or self.closed, timeout)

    def close(self) -> None:
        """The sequence is done (stopped, out of budget, cancelled or failed)."""
        with self._changed:
            self.closed = True
            self.held = False
            self._changed.notify_all()

    def wait(self, count: int, timeout: float) -> tuple[list[int], bool]:
        """The tokens once there are at least ``count`` (or the feed closed, or ``timeout``), and closed."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or len(self.tokens) >= count, timeout)
            return self.tokens, self.closed


class WindowedAudio:
    """Sends a chunk's audio window by window: ``window`` while tokens come, ``finish`` with the whole.

    ``vocode`` turns a list of speech tokens into their samples (``SAMPLES_PER_TOKEN`` each, S3Gen's
    fade-in at the start); ``send`` gets each piece that is final.
    """

    def __init__(
        self,
        vocode: Callable[[list[int]], np.ndarray],
        send: Callable[[np.ndarray], None],
        *,
        first: int = FIRST_WINDOW,
        size: int = WINDOW,
        context: int = CONTEXT,
        hold: int = HOLD,
        fade: int = FADE,
    ) -> None:
        if hold * SAMPLES_PER_TOKEN < fade or context < 1:
            raise ValueError(
                "a window needs context before it and a held-back end at least as long as its crossfade"
            )
        self._vocode, self._send = vocode, send
        self._first, self._size, self._context, self._hold, self._fade = first, size, context, hold, fade
        self.sent_tokens = 0  # audio up to this token has been sent (the tail's samples aside)
        self.sent_samples = 0
        self.windows = 0
        self._tail = np.zeros(0, dtype=np.float32)  # the last window's audio just after what was sent

    @property
    def started(self) -> bool:
        return self.windows > 0

    def wants(self) -> int:
        """Tokens needed before the next window is worth vocoding."""
        return self._first if not self.started else self.sent_tokens + self._hold + self._size

    def window(self, tokens: list[int]) -> None:
        """Vocode the tokens after what was sent (with context) and send all but the held-back end."""
        end = len(tokens) - self._hold
        if end <= self.sent_tokens:
            return
        start = max(0, self.sent_tokens - self._context)
        audio = np.asarray(self._vocode(tokens[start:]), dtype=np.float32)
        offset = start * SAMPLES_PER_TOKEN  # where ``audio`` begins in the chunk
        upto = end * SAMPLES_PER_TOKEN
        self._emit(audio[self.sent_samples - offset : upto - offset])
        self._tail = audio[upto - offset : upto - offset + self._fade].copy()
        self.sent_tokens = end
        self.windows += 1

    def finish(self, whole: np.ndarray) -> None:
        """The rest of the chunk from its whole vocoding (the saved file's audio): the stream ends there."""
        whole = np.asarray(whole, dtype=np.float32)
        self._emit(whole[self.sent_samples :])
        self._tail = np.zeros(0, dtype=np.float32)

    def _emit(self, samples: np.ndarray) -> None:
        fade = min(len(self._tail), len(samples))
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            samples = np.concatenate([self._tail[:fade] * (1 - ramp) + samples[:fade] * ramp, samples[fade:]])
        if samples.size:
            self._send(samples)
            self.sent_samples += samples.size


def vocode_while_decoding(
    feed: TokenFeed,
    partial: PartialAudio,
    vocode: Callable[[list[int]], np.ndarray],
    rate: int,
    log: Any = None,
) -> WindowedAudio:
    """Until ``feed`` closes, vocode a window whenever the listener wants them and enough tokens came.

    ``log`` (a list) gets ``(tokens decoded when it was sent, samples sent)`` per window. The returned
    ``WindowedAudio`` is finished by the caller with the whole chunk's audio (if it ``started``).
    """
    from utils.audio import Clip  # here: the window sizes import without the audio stack (bench/)

    windows = WindowedAudio(vocode, lambda samples: partial.send(Clip(samples, rate)))
    feed.first = windows.wants()
    try:
        while True:
            so_far, closed = feed.wait(windows.wants(), timeout=0.1)
            if closed:
                return windows
            if partial.wanted.is_set() and len(so_far) >= windows.wants():
                try:
                    windows.window(so_far)
                finally:
                    feed.release(started=windows.started)
                if log is not None:
                    log.append((len(feed.tokens), windows.sent_samples))
            else:  # a hold this thread cannot use (control tokens left too few): T3 goes on
                feed.release(unless_enough=windows.wants() if partial.wanted.is_set() else None)
    finally:
        feed.release()


def wait_for_listener(partial: PartialAudio, cancel: threading.Event | None) -> None:
    """Until the listener waits on this chunk (``waited``, windows or not): chunks of one text are
    vocoded in the order they are heard.

    Without it a later chunk, decoded in the same batch, may take S3Gen first and hold back the first
    audio; a cancelled call stops waiting (``engines.worker.Cancelled`` follows from its caller).
    """
    while not partial.waited.wait(0.05):
        if cancel is not None and cancel.is_set():
            return
