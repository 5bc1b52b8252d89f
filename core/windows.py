"""A chunk's first audio before its last token: the engine's windows, heard while the chunk is made.

An engine that streams windows (``engines.base.StreamsWindows``, S3Gen in windows while T3 decodes)
sends each piece from its thread; ``ChunkWindows`` carries them to the event loop, one queue per
chunk, and tells the engine which chunk a listener waits on (``PartialAudio.waited``: only that one
is vocoded now) and whether it wants it in windows (``PartialAudio.wanted``).

Each window is a whole S3Gen call with its fixed cost, so windows are asked for only where the
listener would otherwise starve: always for the first chunk (nothing heard yet); for a later chunk
only while the audio already sent is less than ``margin`` seconds ahead of the listener. That lead
is the seconds of audio sent minus the wall time since the first audio went out (the listener plays
it in real time). A chunk that starts with enough ahead is made whole (one S3Gen call, as without
windows) unless the lead runs down to the margin before it is done: its windows start then.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from engines.base import PartialAudio
from utils.audio import Clip

R = TypeVar("R")


class ChunkWindows:
    """One ``PartialAudio`` and queue per chunk of a text, and how far the audio sent is ahead."""

    def __init__(
        self, count: int, margin: float = math.inf, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._queues: list[asyncio.Queue[Clip]] = [asyncio.Queue() for _ in range(count)]
        self.partials = [PartialAudio(send=self._sender(queue)) for queue in self._queues]
        self.margin = margin
        self._clock = clock
        self._sent = 0.0  # seconds of audio given to the listener
        self._first: float | None = None  # when the first of it went out

    def _sender(self, queue: asyncio.Queue[Clip]) -> Callable[[Clip], None]:
        """Called on the engine's thread: the piece reaches the queue on the event loop."""

        def send(piece: Clip) -> None:
            self._loop.call_soon_threadsafe(queue.put_nowait, piece)

        return send

    def ahead(self) -> float:
        """Seconds of audio sent that the listener has not played yet (below 0: it waited that long)."""
        if self._first is None:
            return -math.inf  # nothing heard yet
        return self._sent - (self._clock() - self._first)

    def _out(self, seconds: float) -> None:
        if self._first is None:
            self._first = self._clock()
        self._sent += seconds

    async def hear(
        self, index: int, result: Awaitable[tuple[Clip, R]], done: list[tuple[Clip, R]]
    ) -> AsyncIterator[Clip]:
        """Chunk ``index``'s pieces as the engine sends them; then its ``result`` is appended to ``done``.

        The pieces come before the result (both reach the loop in the order the engine made them).
        Windows are wanted now if the listener has less than ``margin`` seconds ahead, else from the
        moment it has (if the chunk is not done by then).
        """
        partial = self.partials[index]
        if self.ahead() <= self.margin:  # (before ``waited``: an engine told to go on knows how)
            partial.wanted.set()
        partial.waited.set()
        queue = self._queues[index]
        task = asyncio.ensure_future(result)
        streamed = 0.0
        try:
            while True:
                spare = self.ahead() - self.margin  # seconds before the listener is down to the margin
                if spare <= 0:
                    partial.wanted.set()
                getter = asyncio.ensure_future(queue.get())
                finished, _ = await asyncio.wait(
                    {task, getter},
                    timeout=None if partial.wanted.is_set() else spare,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if getter in finished:
                    piece = getter.result()
                    self._out(piece.duration)
                    streamed += piece.duration
                    yield piece
                    continue
                getter.cancel()
                if task in finished:
                    break
            while not queue.empty():
                piece = queue.get_nowait()
                self._out(piece.duration)
                streamed += piece.duration
                yield piece
            made = task.result()
            self._out(max(0.0, made[0].duration - streamed))  # the rest: heard whole
            done.append(made)
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
