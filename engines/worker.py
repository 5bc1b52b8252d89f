"""The one thread that runs model calls, so the event loop never blocks on a model."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# Set when the request waiting for a model call goes away (client gone, job stopped): a call that
# waits on a batch (T3 continuous batching) reads it and leaves at once.
_cancel: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "model_call_cancel", default=None
)


# Which request a model call serves (an opaque key, or None): a batching engine (T3's scheduler)
# shares its free places between requests, so one text's many chunks do not hold them all.
_owner: contextvars.ContextVar[object | None] = contextvars.ContextVar("model_call_owner", default=None)


# What a model call has to tell its caller's response (a chunk cut at its token budget): the caller
# sets a list (``collecting_notes``); the call, on the worker thread, appends to it (``note``).
_notes: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("model_call_notes", default=None)


def note(message: str) -> None:
    """Tell the caller of the current model call something its response should say."""
    notes = _notes.get()
    if notes is not None and message not in notes:
        notes.append(message)


@contextlib.contextmanager
def collecting_notes() -> Iterator[list[str]]:
    """The notes of the model calls made inside (they run with a copy of this context)."""
    notes: list[str] = []
    token = _notes.set(notes)
    try:
        yield notes
    finally:
        _notes.reset(token)


class Cancelled(Exception):
    """The caller of a model call went away; its result is not wanted."""


def cancel_event() -> threading.Event | None:
    """The current model call's cancel event (None outside a worker call)."""
    return _cancel.get()


def call_owner() -> object | None:
    """The request the current model call serves (``ModelWorker.run``'s ``owner``), or None."""
    return _owner.get()


class ModelWorker:
    """A FIFO of model calls served by a single thread (one model instance is not thread-safe)."""

    def __init__(self, name: str = "model-worker", threads: int = 1) -> None:
        # More than one thread only for engines whose calls are I/O (remote servers).
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self._pending = 0

    @property
    def depth(self) -> int:
        """Calls waiting or running."""
        return self._pending

    async def run(self, fn: Callable[..., T], *args: Any, owner: object | None = None) -> T:
        """Run ``fn(*args)`` on the worker thread, keeping the caller's context (request id in logs);
        ``owner``: the request it serves (``call_owner``)."""
        self._pending += 1
        cancel = threading.Event()
        try:
            context = contextvars.copy_context()
            context.run(_cancel.set, cancel)
            context.run(_owner.set, owner)
            return await asyncio.wrap_future(self._pool.submit(context.run, fn, *args))
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            self._pending -= 1

    def shutdown(self) -> None:
        """Finish the running call, drop the queued ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)
