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

logger = logging.getLogger(__name__)


def enter_project(root: str) -> None:
    """Run from the checkout (same path on every node): relative paths in the config resolve as usual."""
    os.chdir(root)
    if root not in sys.path:
        sys.path.insert(0, root)


def group_settings(settings: Settings, names: list[str]) -> Settings:
    """The settings with only this group's engines enabled."""
    engines = settings.engines.model_copy(update={"enabled": names, "load_on_first_use": []})
    return settings.model_copy(update={"engines": engines})


class EngineReplica:
    """The engines of one group on one replica (the deployment class; serving/app.py makes it one)."""

    def __init__(self, settings: Settings, names: list[str], root: str) -> None:
        enter_project(root)
        from engines.registry import build_engines

        settings = group_settings(settings, names)
        self._manager = EngineManager(build_engines(settings), settings.engines, settings.models)
        self._started = False
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

    async def convert(self, name: str, source: Any, target: Path | None, params: Any) -> Outcome:
        """Re-voice one window of audio on this replica's worker."""
        return await self._call(name, "convert", source, target, params)

    async def _call(self, name: str, method: str, *args: Any) -> Outcome:
        self._start()
        try:
            engine = await self._manager.ensure_loaded(name)
            return Outcome(await self._manager.call(name, getattr(engine, method), *args))
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

    async def __del__(self) -> None:  # Serve calls it when the replica is stopped
        await self._manager.stop()
