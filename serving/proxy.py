"""Engines in the ingress that are replicas elsewhere: each call goes through a Serve handle.

The ingress keeps the whole server (CoreEngine, its services, every route and /ui) and swaps only
the engines: a ``ServeEngine`` has the same name, kind and facts as the engine it stands for (read
from an unloaded instance of it, a "twin", so voices and languages need no round trip), and its
``synthesize``/``convert`` run on one of the group's replicas. The ingress' EngineManager treats it
like a remote (I/O on its own worker threads, outside the memory budget). Streaming is unchanged:
the speech service asks for one chunk at a time, and each chunk is one call. An engine that speaks
chunks together (``VocodesTogether``: Chatterbox with our loop) gets each group in one call, so its
chunks are decoded and vocoded together on one replica.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from engines.base import SpeechEngine, SynthesisParams
from engines.worker import Cancelled, cancel_event
from exceptions import ChatterboxError, ServerBusyError
from utils.audio import Clip

RETRY_AFTER = 2  # seconds: Serve starts a replacement for a replica that died
POLL = 0.2  # seconds between looks at the caller's cancel event while a call runs


class ServeEngine:
    """Stands for one engine of a deployment; loading asks a replica to load it."""

    def __init__(self, twin: SpeechEngine, handle: Any, deployment: str, calls: int) -> None:
        self.name = twin.name
        self.kind: Literal["tts", "vc"] = twin.kind
        self.traits = dataclasses.replace(
            twin.traits,
            worker_group=f"serve:{twin.name}",
            concurrency=calls,
            loads_on_worker=True,
            retry_after_failure=5.0,
        )
        self.deployment = deployment
        self._twin: Any = twin  # a SynthesisEngine or ConversionEngine, by kind
        self._handle = handle
        self._described: dict[str, Any] | None = None

    @property
    def loaded(self) -> bool:
        return self._described is not None

    def load(self) -> None:
        """One replica loads the engine (the others load at their start, or on their first call)."""
        self._described = self._ask("load")

    def unload(self) -> None:
        """Forget the replica's facts; replicas keep their weights (Serve scales them down instead)."""
        self._described = None

    def memory_bytes(self) -> int:
        return 0  # the weights are on the replicas

    def estimated_bytes(self) -> int | None:
        return 0

    def describe(self) -> dict[str, Any]:
        facts = dict(self._described) if self._described else self._twin.describe()
        for key in ("name", "kind", "state", "error", "resident_mb", "t3_batch"):
            facts.pop(key, None)  # the ingress' manager says these for itself
        return {**facts, "deployment": self.deployment}

    def _ask(self, method: str, *args: Any) -> Any:
        """Call the deployment from this worker thread; a replica that dies is a 503 to retry."""
        from ray.exceptions import RayActorError
        from ray.serve.exceptions import BackPressureError

        try:
            response = getattr(self._handle, method).remote(self.name, *args)
            cancel = cancel_event()
            while True:
                try:
                    outcome = response.result(timeout_s=POLL)
                    break
                except TimeoutError:
                    if cancel is not None and cancel.is_set():  # the request went away: so does the call
                        response.cancel()
                        raise Cancelled() from None
        except BackPressureError as exc:
            raise ServerBusyError(
                f"every {self.deployment} replica is full (max_queued_requests in serve.yaml); "
                f"try again in {RETRY_AFTER} s",
                retry_after=RETRY_AFTER,
                param="engine",
            ) from exc
        except (ChatterboxError, Cancelled):
            raise
        except RayActorError as exc:
            raise ServerBusyError(
                f"the {self.deployment} replica running engine {self.name!r} stopped "
                f"({type(exc).__name__}); Ray Serve replaces it: try again in {RETRY_AFTER} s",
                retry_after=RETRY_AFTER,
                param="engine",
            ) from exc
        return outcome.unwrap()


class ServeConversionEngine(ServeEngine):
    """Voice conversion on a replica."""

    def convert(self, source: Clip, target_voice: Path | None, params: SynthesisParams) -> Clip:
        target = target_voice.resolve() if target_voice is not None else None
        return self._ask("convert", source, target, params)


class ServeSynthesisEngine(ServeEngine):
    """Text to speech on a replica; what it can do is read from the twin."""

    @property
    def clones_voices(self) -> bool:
        return self._twin.clones_voices

    @property
    def varies_with_seed(self) -> bool:
        return self._twin.varies_with_seed

    @property
    def max_chunk_chars(self) -> int | None:
        return self._twin.max_chunk_chars

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._twin.languages)

    def languages_for(self, voice: str | None) -> tuple[str, ...]:
        return self._twin.languages_for(voice)

    def has_voice(self, name: str) -> bool:
        return self._twin.has_voice(name)

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        return self._ask("synthesize", text, _shared(voice), params)


class ServeGroupingEngine(ServeSynthesisEngine):
    """Text to speech on a replica, consecutive chunks of one text in one call (``VocodesTogether``)."""

    @property
    def vocode_group_chars(self) -> int:
        return int(self._twin.vocode_group_chars)

    def synthesize_group(
        self, texts: Sequence[str], voice: Path | str | None, params: Sequence[SynthesisParams]
    ) -> list[tuple[Clip, list[str]]]:
        return self._ask("synthesize_group", list(texts), _shared(voice), list(params))


class ServeVoicedEngine(ServeSynthesisEngine):
    """Text to speech on a replica, with voices of its own (Piper's voice files, on the shared folder)."""

    def voices(self) -> Any:
        return self._twin.voices()


def _shared(voice: Path | str | None) -> Path | str | None:
    """A voice file's path as every replica sees it (the shared folder at the same path)."""
    return voice.resolve() if isinstance(voice, Path) else voice


def proxy_for(twin: SpeechEngine, handle: Any, deployment: str, calls: int) -> ServeEngine:
    """The stand-in for ``twin`` whose calls go to ``handle``."""
    from engines.base import ListsVoices, VocodesTogether

    if twin.kind == "vc":
        return ServeConversionEngine(twin, handle, deployment, calls)
    if isinstance(twin, ListsVoices):
        return ServeVoicedEngine(twin, handle, deployment, calls)
    if isinstance(twin, VocodesTogether) and twin.vocode_group_chars:
        return ServeGroupingEngine(twin, handle, deployment, calls)
    return ServeSynthesisEngine(twin, handle, deployment, calls)
