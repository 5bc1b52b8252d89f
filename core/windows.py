"""A chunk's first audio before its last token: the engine's windows, heard while the chunk is made.

An engine that streams windows (``engines.base.StreamsWindows``, S3Gen in windows while T3 decodes)
sends each piece from its thread; ``ChunkWindows`` carries them to the event loop, one queue per
chunk, and tells the engine which chunk a listener waits on (only that one is worth streaming).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from engines.base import PartialAudio
from utils.audio import Clip

T = TypeVar("T")


class ChunkWindows:
    """One ``PartialAudio`` and queue per chunk of a text."""

    def __init__(self, count: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._queues: list[asyncio.Queue[Clip]] = [asyncio.Queue() for _ in range(count)]
        self.partials = [PartialAudio(send=self._sender(queue)) for queue in self._queues]

    def _sender(self, queue: asyncio.Queue[Clip]) -> Callable[[Clip], None]:
        """Called on the engine's thread: the piece reaches the queue on the event loop."""

        def send(piece: Clip) -> None:
            self._loop.call_soon_threadsafe(queue.put_nowait, piece)

        return send

    async def hear(self, index: int, result: Awaitable[T], done: list[T]) -> AsyncIterator[Clip]:
        """Chunk ``index``'s pieces as the engine sends them; then its ``result`` is appended to ``done``.

        The pieces come before the result (both reach the loop in the order the engine made them).
        """
        self.partials[index].wanted.set()
        queue = self._queues[index]
        task = asyncio.ensure_future(result)
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                finished, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter in finished:
                    yield getter.result()
                    continue
                getter.cancel()
                break
            while not queue.empty():
                yield queue.get_nowait()
            done.append(task.result())
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
