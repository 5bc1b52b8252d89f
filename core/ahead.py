"""Start the next few pieces of work early, hear their results in order (chunks of one long text)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


@contextlib.asynccontextmanager
async def ahead(
    start: Callable[[int], Awaitable[T]], count: int, window: int
) -> AsyncIterator[Callable[[int], Awaitable[T]]]:
    """``results(i)`` awaits ``start(i)`` for ``i = 0..count-1`` in order, with up to ``window`` running.

    ``window`` 1 runs each one only when it is asked for. Leaving early (a client gone, an error)
    cancels the ones started and not yet heard.
    """
    running: dict[int, asyncio.Future[T]] = {}
    started = 0

    async def results(index: int) -> T:
        nonlocal started
        if window <= 1:
            return await start(index)
        while started < min(count, index + window):
            running[started] = asyncio.ensure_future(start(started))
            started += 1
        return await running.pop(index)

    try:
        yield results
    finally:
        for future in running.values():
            future.cancel()
        if running:
            await asyncio.gather(*running.values(), return_exceptions=True)
