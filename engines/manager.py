"""The engines' life cycle: loading (in the background, or on first use), unloading, idle unload,
choosing the engine for a request, admitting requests, and running model calls on each model's worker.

Each model has one worker thread with a FIFO of calls (engines that share weights, Chatterbox TTS and
VC, share one). A request queues one chunk at a time, so requests take turns chunk by chunk: a short
request is not stuck behind a whole chapter. Admission bounds how many requests a model holds
(running or waiting); past that, new ones get a 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from config import TTS_ENGINES, VC_ENGINES, EngineSettings, ModelSettings
from engines.base import Batches, SpeechEngine, SynthesisEngine
from engines.memory import MB, MemoryBook, MemoryReport
from engines.worker import Cancelled, ModelWorker
from exceptions import (
    ChatterboxError,
    EngineUnavailableError,
    GenerationError,
    InvalidRequestError,
    ServerBusyError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
EngineState = Literal["unloaded", "loading", "ready", "failed"]


@dataclass
class _Queue:
    """One model's worker thread and the requests admitted to it."""

    worker: ModelWorker
    admitted: int = 0
    seconds_per_request: float = 0.0  # moving average, for Retry-After
    room: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Slot:
    engine: SpeechEngine
    queue: _Queue
    state: EngineState = "unloaded"
    error: str | None = None
    failed_at: float = 0.0
    loading: asyncio.Future[None] | None = None
    last_used: float = field(default_factory=time.monotonic)


class EngineManager:
    """Owns the engine instances, their state, the loader thread and the model worker."""

    def __init__(
        self,
        engines: Mapping[str, SpeechEngine],
        choice: EngineSettings,
        models: ModelSettings,
        *,
        max_queued: int = 0,
    ) -> None:
        self._queues: dict[str, _Queue] = {}
        threads: dict[str, int] = {}  # per worker group: the most calls any of its engines runs at once
        for name, engine in engines.items():
            group = engine.traits.worker_group or name
            threads[group] = max(threads.get(group, 1), engine.traits.concurrency)
        for group, count in threads.items():
            self._queues[group] = _Queue(ModelWorker(f"model-{group}", count))
        self._slots = {
            name: _Slot(engine, self._queues[engine.traits.worker_group or name])
            for name, engine in engines.items()
        }
        self._choice = choice
        self._models = models
        self._max_queued = max_queued
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_ready: list[Callable[[str], Awaitable[None]]] = []
        self._memory = MemoryBook(budget_bytes=int(models.memory_budget_mb * MB))
        self._budget_lock = asyncio.Lock()  # one load at a time makes room (loads are serial anyway)

    def on_ready(self, callback: Callable[[str], Awaitable[None]]) -> None:
        """Run ``callback(name)`` in the background each time an engine finishes loading."""
        self._on_ready.append(callback)

    # ---- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Begin background loading (if configured) and the idle watcher; returns at once."""
        if self._models.load_on_startup:
            # The default first; VC after TTS so it can share the TTS model's S3Gen.
            order = sorted(
                (n for n in self._slots if n not in self._choice.load_on_first_use),
                key=lambda n: (n != self._choice.default, self._slots[n].engine.kind == "vc", n),
            )
            for name in order:
                self._spawn(self._load_at_start(name))
        if self._models.idle_unload_seconds > 0:
            self._spawn(self._unload_idle_forever())

    async def stop(self) -> None:
        """Cancel background work and stop the threads."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for queue in self._queues.values():
            await asyncio.to_thread(queue.worker.shutdown)
        self._loader.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- loading ----------------------------------------------------------------------------

    async def load(self, name: str) -> dict[str, Any]:
        """Load an engine now (retrying one that failed) and describe it."""
        slot = self._slot(name)
        if slot.state == "failed":
            slot.state, slot.error = "unloaded", None
        await self.ensure_loaded(name)
        return self.info(name)

    async def unload(self, name: str) -> dict[str, Any]:
        """Free an engine's weights once the calls already queued for it are done."""
        slot = self._slot(name)
        while slot.loading is not None:
            await asyncio.shield(slot.loading)
        # While it unloads, a request for it waits (ensure_loaded) and then loads it again.
        slot.loading = asyncio.ensure_future(self._unload(name, slot))
        await asyncio.shield(slot.loading)
        return self.info(name)

    async def _unload(self, name: str, slot: _Slot) -> None:
        try:
            await slot.queue.worker.run(slot.engine.unload)
            slot.state, slot.error = "unloaded", None
            logger.info("engine %s unloaded", name)
        finally:
            slot.loading = None
            self._measure()

    async def ensure_loaded(self, name: str) -> SpeechEngine:
        """The engine, loaded (waiting for a load under way); 503 with the reason if it cannot run."""
        slot = self._slot(name)
        retry = slot.engine.traits.retry_after_failure  # a remote server may be back
        if slot.state == "failed" and retry is not None and time.monotonic() - slot.failed_at >= retry:
            slot.state, slot.error = "unloaded", None
        while True:  # an unload under way (budget, idle) is waited for, then the engine loads again
            if slot.state == "unloaded" and slot.loading is None:
                slot.loading = asyncio.ensure_future(self._load(name, slot))
            if slot.loading is None:
                break
            await asyncio.shield(slot.loading)
        if slot.state != "ready":
            raise EngineUnavailableError(f"engine {name!r} cannot run: {slot.error}", param="engine")
        slot.last_used = time.monotonic()
        return slot.engine

    async def _load_at_start(self, name: str) -> None:
        slot = self._slots[name]
        if slot.state == "unloaded" and slot.loading is None:  # failures are logged and shown by /health
            slot.loading = asyncio.ensure_future(self._load(name, slot, at_start=True))
            await asyncio.shield(slot.loading)

    async def _load(self, name: str, slot: _Slot, *, at_start: bool = False) -> None:
        slot.state = "loading"
        memory = self._memory
        budgeted = memory.budget_bytes > 0 and not slot.engine.traits.loads_on_worker
        async with self._budget_lock if budgeted else contextlib.nullcontext():
            if budgeted:
                self._measure()
                need = memory.need(name, slot.engine)
                if at_start and not memory.fits_at_start(name, need):
                    slot.state, slot.loading = "unloaded", None
                    return
                await memory.make_room(name, need, self._idle, self.unload)
            await self._load_now(name, slot)
            if budgeted and slot.state == "ready":  # measured now: the estimate may have been low
                await memory.make_room(name, memory.resident.get(name, 0), self._idle, self.unload)
                memory.check(name)

    async def _load_now(self, name: str, slot: _Slot) -> None:
        started = time.perf_counter()
        try:
            if slot.engine.traits.loads_on_worker:  # a quick check (remote): not behind weights
                await slot.queue.worker.run(slot.engine.load)
            else:
                await asyncio.get_running_loop().run_in_executor(self._loader, slot.engine.load)
        except ChatterboxError as exc:
            slot.state, slot.error, slot.failed_at = "failed", exc.message, time.monotonic()
            logger.warning("engine %s unavailable: %s%s", name, exc.message, self._fallback_note(name))
        except Exception as exc:
            slot.state, slot.error, slot.failed_at = (
                "failed",
                f"{type(exc).__name__}: {exc}",
                time.monotonic(),
            )
            logger.exception("engine %s failed to load%s", name, self._fallback_note(name))
        else:
            slot.state, slot.error, slot.last_used = "ready", None, time.monotonic()
            self._measure()
            self._memory.remember(name)
            held = self._memory.resident.get(name, 0) / MB
            logger.info("engine %s ready in %.1f s (%.0f MB)", name, time.perf_counter() - started, held)
            for callback in self._on_ready:
                self._spawn(callback(name))
        finally:
            slot.loading = None

    # ---- memory budget (the rules: engines/memory.py, docs/engines.md) -------------------------

    def _measure(self) -> None:
        self._memory.measure({name: slot.engine for name, slot in self._slots.items()})

    def _idle(self) -> list[str]:
        """Loaded engines with no request admitted and no call queued, least recently used first."""
        idle = [
            name
            for name, slot in self._slots.items()
            if slot.state == "ready"
            and slot.loading is None
            and slot.queue.worker.depth == 0
            and slot.queue.admitted == 0
        ]
        return sorted(idle, key=lambda name: self._slots[name].last_used)

    def memory(self) -> MemoryReport:
        """The budget and the bytes of weights each engine holds now."""
        self._measure()
        return self._memory.report()

    def _fallback_note(self, name: str) -> str:
        fallback = self._choice.fallback
        if name == self._choice.default and fallback and fallback in self._slots:
            return f"; requests that name no engine are served by {fallback}"
        return ""

    async def _unload_idle_forever(self) -> None:
        idle = self._models.idle_unload_seconds
        while True:
            await asyncio.sleep(min(max(idle / 4, 0.05), 30))
            now = time.monotonic()
            for name, slot in self._slots.items():
                if slot.state == "ready" and now - slot.last_used >= idle and slot.queue.worker.depth == 0:
                    logger.info("engine %s idle for %.0f s", name, now - slot.last_used)
                    await self.unload(name)

    # ---- choosing and calling -----------------------------------------------------------------

    async def pick_tts(self, requested: str | None) -> tuple[str, SynthesisEngine]:
        """The named TTS engine, or the default, or the fallback when the default cannot run."""
        if requested is not None:
            slot = self._slot(requested)
            if slot.engine.kind != "tts":
                raise InvalidRequestError(
                    f"engine {requested!r} converts voices and cannot read text; use /api/v1/vc",
                    param="engine",
                )
            return requested, await self.ensure_loaded(requested)  # type: ignore[return-value]
        failure: EngineUnavailableError | None = None
        for name in dict.fromkeys(
            c for c in (self._choice.default, self._choice.fallback) if c in self._slots
        ):
            try:
                return name, await self.ensure_loaded(name)  # type: ignore[return-value]
            except EngineUnavailableError as exc:
                failure = exc
        raise failure or EngineUnavailableError("no text-to-speech engine is enabled (engines.enabled)")

    async def call(self, name: str, fn: Callable[..., T], *args: Any, owner: object | None = None) -> T:
        """Run one model call for ``owner``'s request on the worker (``engines.worker.call_owner``);
        an unexpected model error becomes a GenerationError."""

        def guarded() -> T:
            try:
                return fn(*args)
            except (ChatterboxError, Cancelled):  # Cancelled: its caller is gone, nobody reads it
                raise
            except Exception as exc:
                logger.exception("engine %s failed", name)
                raise GenerationError(f"engine {name!r} failed: {type(exc).__name__}: {exc}") from exc

        slot = self._slot(name)
        if slot.state != "ready" or slot.loading is not None:  # unloaded since it was chosen (budget, idle)
            await self.ensure_loaded(name)
        result = await slot.queue.worker.run(guarded, owner=owner)
        slot.last_used = time.monotonic()
        return result

    # ---- admission --------------------------------------------------------------------------

    def check_room(self, name: str) -> None:
        """Raise ServerBusyError (503, Retry-After) when the engine's model holds its limit of requests."""
        queue = self._slot(name).queue
        if self._max_queued and queue.admitted >= self._max_queued:
            # A place frees about every (request time / requests sharing the model) seconds.
            each = queue.seconds_per_request / queue.admitted if queue.seconds_per_request else 5.0
            retry = min(max(math.ceil(each), 1), 300)
            raise ServerBusyError(
                f"engine {name!r} is busy with {queue.admitted} requests (limits.max_queued_requests); "
                f"try again in {retry} s",
                retry_after=retry,
                param="engine",
            )

    @contextlib.asynccontextmanager
    async def admit(self, name: str, *, wait: bool = False) -> AsyncIterator[None]:
        """Hold a place in the model's queue for one request: refused when full, or waiting if ``wait``."""
        queue = self._slot(name).queue
        while wait and self._max_queued and queue.admitted >= self._max_queued:
            queue.room.clear()
            await queue.room.wait()
        self.check_room(name)
        queue.admitted += 1
        started = time.monotonic()
        try:
            yield
        finally:
            queue.admitted -= 1
            took = time.monotonic() - started
            average = queue.seconds_per_request
            queue.seconds_per_request = 0.8 * average + 0.2 * took if average else took
            queue.room.set()

    # ---- state ------------------------------------------------------------------------------

    def _slot(self, name: str) -> _Slot:
        if name not in self._slots:
            known = sorted({*TTS_ENGINES, *VC_ENGINES, *self._slots})
            if name in known:
                raise EngineUnavailableError(
                    f"engine {name!r} is disabled (see engines.enabled)", param="engine"
                )
            raise InvalidRequestError(
                f"unknown engine {name!r}; choose one of: {', '.join(known)}", param="engine"
            )
        return self._slots[name]

    def engine(self, name: str) -> SpeechEngine:
        """The engine instance by name, loaded or not."""
        return self._slot(name).engine

    def info(self, name: str) -> dict[str, Any]:
        """State of one engine, with what it says about itself."""
        slot = self._slot(name)
        return {
            "name": name,
            "kind": slot.engine.kind,
            "state": slot.state,
            "error": slot.error,
            "resident_mb": round(self._memory.resident.get(name, 0) / MB, 1),
            **slot.engine.describe(),
            **({"t3_batch": batch} if (batch := self.batches().get(name)) else {}),
        }

    def infos(self) -> list[dict[str, Any]]:
        """State of every configured engine."""
        self._measure()  # Piper loads more voices as they are asked for
        return [self.info(name) for name in self._slots]

    def serving(self) -> tuple[str | None, str | None]:
        """The engine that answers requests naming none, and why it is not the default (or None)."""
        default, fallback = self._choice.default, self._choice.fallback
        slot = self._slots.get(default)
        if slot is not None and slot.state != "failed":
            return default, None
        reason = f"{default} is disabled" if slot is None else f"{default} unavailable: {slot.error}"
        if fallback and fallback in self._slots and self._slots[fallback].state != "failed":
            return fallback, reason
        return None, reason

    def batches(self) -> dict[str, dict[str, Any]]:
        """Each loaded engine's T3 batch now (engines that batch with our loop; see engines/t3_scheduler.py)."""
        found = {}
        for name, slot in self._slots.items():
            engine = slot.engine
            if slot.state == "ready" and isinstance(engine, Batches) and (figures := engine.batch_stats()):
                found[name] = figures
        return found

    @property
    def queue_depth(self) -> int:
        """Model calls waiting or running, on every model."""
        return sum(queue.worker.depth for queue in self._queues.values())

    @property
    def admitted(self) -> int:
        """Requests holding a place in a model's queue."""
        return sum(queue.admitted for queue in self._queues.values())
