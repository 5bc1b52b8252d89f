"""One replica of an engine group: the same engines, EngineManager, worker and batching scheduler as
the single-process server, answering model calls sent by the ingress through a Serve handle."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from config import Settings
from engines.manager import EngineManager
from exceptions import ChatterboxError
from serving.outcome import Outcome
from serving.warm import warm_voices

logger = logging.getLogger(__name__)


def enter_project(root: str) -> None:
    """Run from the checkout (same path on every node): relative paths in the config resolve as usual."""
    os.chdir(root)
    if root not in sys.path:
        sys.path.insert(0, root)


def group_settings(settings: Settings, names: list[str], cpus: float | None = None) -> Settings:
    """The settings with only this group's engines enabled, and Piper's ONNX Runtime threads and torch's
    threads set to the replica's CPUs (``cpus``: its ``ray_actor_options`` num_cpus, at least 1) unless
    the config sets them.

    ONNX Runtime otherwise gives every replica a thread per core of the machine: two replicas on two
    cores then fight over them and do less together than one (docs/scaling.md).
    """
    engines = settings.engines.model_copy(update={"enabled": names, "load_on_first_use": []})
    update: dict[str, Any] = {"engines": engines}
    if cpus is not None and settings.piper.intra_op_threads == 0:
        threads = max(1, int(cpus))
        update["piper"] = settings.piper.model_copy(update={"intra_op_threads": threads})
    if cpus is not None and settings.models.torch_threads == 0:  # the same for torch's engines
        update["models"] = settings.models.model_copy(update={"torch_threads": max(1, int(cpus))})
    return settings.model_copy(update=update)


def replica_cpus() -> float | None:
    """The CPUs Ray gave this replica (None outside a Ray worker)."""
    from ray.runtime_context import get_runtime_context

    return get_runtime_context().get_assigned_resources().get("CPU")


class EngineReplica:
    """The engines of one group on one replica (the deployment class; serving/app.py makes it one)."""

    def __init__(self, settings: Settings, names: list[str], root: str) -> None:
        enter_project(root)
        from engines.registry import build_engines

        settings = group_settings(settings, names, replica_cpus())
        self._settings = settings
        self._manager = EngineManager(build_engines(settings), settings.engines, settings.models)
        if settings.models.warm_voices:  # on every replica: each keeps its own conditionals cache
            self._manager.on_ready(self._warm_voices)
        self._started = False
        self._stopped = False
        self._identity = self._who()

    @staticmethod
    def _who() -> dict[str, Any]:
        from ray import serve
        from ray.runtime_context import get_runtime_context

        context = serve.get_replica_context()
        return {
            "replica": context.replica_id.unique_id,
            "deployment": context.deployment,
            "node_id": get_runtime_context().get_node_id(),
            "pid": os.getpid(),
        }

    def _start(self) -> None:
        if not self._started:  # on the replica's event loop, where the manager's tasks live
            self._started = True
            self._manager.start()

    async def load(self, name: str) -> Outcome:
        """Load one engine here (if not loaded yet) and describe it."""
        self._start()
        try:
            await self._manager.ensure_loaded(name)
            return Outcome(self._manager.info(name))
        except ChatterboxError as exc:
            return Outcome.failed(exc)

    async def synthesize(self, name: str, text: str, voice: Path | str | None, params: Any) -> Outcome:
        """Speak one chunk on this replica's worker (batched with its other calls by the T3 scheduler)."""
        return await self._call(name, "synthesize", text, voice, params)

    async def synthesize_group(
        self, name: str, texts: list[str], voice: Path | str | None, params: list[Any]
    ) -> Outcome:
        """Consecutive chunks of one text in one call (``engines.base.VocodesTogether``)."""
        return await self._call(name, "synthesize_group", texts, voice, params)

    async def convert(self, name: str, source: Any, target: Path | None, params: Any) -> Outcome:
        """Re-voice one window of audio on this replica's worker."""
        return await self._call(name, "convert", source, target, params)

    async def _call(self, name: str, method: str, *args: Any) -> Outcome:
        self._start()
        try:
            engine = await self._manager.ensure_loaded(name)
            # One owner a call: a group's chunks share the T3 batch with other calls as one request.
            return Outcome(await self._manager.call(name, getattr(engine, method), *args, owner=object()))
        except ChatterboxError as exc:
            return Outcome.failed(exc)

    async def health(self) -> dict[str, Any]:
        """This replica: who and where it is, its engines' state, the calls it holds."""
        self._start()
        return {
            **self._identity,
            "queue_depth": self._manager.queue_depth,
            "engines": [
                {key: info.get(key) for key in ("name", "state", "error", "resident_mb", "t3_batch")}
                for info in self._manager.infos()
            ],
        }

    async def _warm_voices(self, name: str) -> None:
        """Condition ``models.warm_voices`` on an engine of this replica that just loaded."""
        await warm_voices(self._manager, self._settings, name)

    @property
    def stopped(self) -> bool:
        return self._stopped

    async def shutdown(self) -> None:
        """Unload every engine (its weights freed) and stop the worker threads; once only.

        Serve stops a replica by calling its ``__del__`` (scale-down, redeploy, ``serve shutdown``),
        which calls this after letting the calls it holds finish (up to ``graceful_shutdown_timeout_s``).
        """
        if self._stopped:
            return
        self._stopped = True
        if self._started:
            for info in self._manager.infos():
                if info["state"] == "ready":
                    try:
                        await self._manager.unload(info["name"])
                    except Exception:  # the others must still be freed and the threads stopped
                        logger.exception(
                            "replica %s: unloading %s failed", self._identity["replica"], info["name"]
                        )
            await self._manager.stop()
        logger.info("replica %s stopped: engines unloaded, threads stopped", self._identity["replica"])

    async def __del__(self) -> None:  # Serve's hook for a replica it stops
        await self.shutdown()
