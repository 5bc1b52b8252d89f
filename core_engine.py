"""CoreEngine: the one place that owns the engines, the model worker, the pipeline and the stores.

The REST routes, the OpenAI route and the UI all call this; it takes and returns plain
dataclasses and never imports a web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from config import TTS_ENGINES, VC_ENGINES, Settings
from engines.base import ConversionEngine, SpeechEngine, SynthesisEngine, SynthesisParams
from engines.worker import ModelWorker
from exceptions import (
    ChatterboxError,
    EngineUnavailableError,
    GenerationError,
    InvalidRequestError,
    NotFoundError,
)
from management.audio_library import AudioLibrary
from management.outputs import OutputStore, timestamp
from monitoring.metrics import Metrics
from utils.audio import Clip, concatenate, encode
from utils.text import split_text

logger = logging.getLogger(__name__)

CHUNK_CROSSFADE_MS = 20.0
EngineState = Literal["unloaded", "loading", "ready", "failed"]


@dataclass(frozen=True)
class SpeechRequest:
    """Text to speak; ``None`` fields take the configured defaults."""

    text: str
    engine: str | None = None
    voice: str | None = None
    exaggeration: float | None = None
    cfg_weight: float | None = None
    temperature: float | None = None
    repetition_penalty: float | None = None
    min_p: float | None = None
    top_p: float | None = None
    seed: int | None = None  # None or 0: a random seed, reported back
    watermark: bool | None = None


@dataclass(frozen=True)
class ConversionRequest:
    """A clip from vc_inputs/ to re-voice with a voice from voices/ (``None``: the built-in voice)."""

    source: str
    target_voice: str | None = None
    seed: int | None = None
    watermark: bool | None = None


@dataclass(frozen=True)
class SpeechResult:
    """Generated audio, where it was saved, and how it was made."""

    clip: Clip
    wav: bytes
    output_path: Path
    engine: str
    seed: int
    generation_seconds: float
    chunks: int


@dataclass
class _Slot:
    engine: SpeechEngine
    state: EngineState = "unloaded"
    error: str | None = None
    loading: asyncio.Future[None] | None = None
    last_used: float = field(default_factory=time.monotonic)


class CoreEngine:
    """Owns the engines and serves speech requests from every door."""

    def __init__(
        self,
        settings: Settings,
        engines: Mapping[str, SpeechEngine] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        if engines is None:
            from engines.registry import build_engines

            engines = build_engines(settings)
        self.settings = settings
        self.metrics = metrics
        self._slots = {name: _Slot(engine) for name, engine in engines.items()}
        self.voices = AudioLibrary(settings.paths.voices_dir, label="voice")
        self.vc_inputs = AudioLibrary(settings.paths.vc_inputs_dir, label="vc input")
        self.outputs = OutputStore(settings.paths.outputs_dir)
        self._worker = ModelWorker()
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")
        self._tasks: set[asyncio.Task[Any]] = set()
        self.started_at = time.time()

    # ---- life cycle -------------------------------------------------------------------------

    async def start(self, metrics: Metrics | None = None) -> None:
        """Create the data folders, begin loading (if configured) and the idle watcher; returns at once."""
        self.metrics = self.metrics or metrics
        if self.metrics is not None:
            self.metrics.queue_depth.set_function(lambda: self._worker.depth)
        for folder in (
            self.settings.paths.voices_dir,
            self.settings.paths.outputs_dir,
            self.settings.paths.vc_inputs_dir,
        ):
            Path(folder).mkdir(parents=True, exist_ok=True)
        if self.settings.models.load_on_startup:
            for name in self._load_order():
                self._spawn(self._ensure_loaded_quietly(name))
        if self.settings.models.idle_unload_seconds > 0:
            self._spawn(self._unload_idle_forever())

    async def stop(self) -> None:
        """Cancel background work and stop the threads."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self._worker.shutdown)
        self._loader.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _load_order(self) -> list[str]:
        # The default first; VC after TTS so it can share the TTS model's S3Gen.
        default = self.settings.engines.default
        return sorted(self._slots, key=lambda n: (n != default, self._slots[n].engine.kind == "vc", n))

    # ---- loading ----------------------------------------------------------------------------

    async def load(self, name: str) -> dict[str, Any]:
        """Load an engine now (retrying one that failed) and describe it."""
        slot = self._slot(name)
        if slot.state == "failed":
            slot.state, slot.error = "unloaded", None
        await self._ensure_loaded(name)
        return self.engine_info(name)

    async def unload(self, name: str) -> dict[str, Any]:
        """Free an engine's weights once the calls already queued for it are done."""
        slot = self._slot(name)
        if slot.loading is not None:
            await asyncio.shield(slot.loading)
        await self._worker.run(slot.engine.unload)
        slot.state, slot.error = "unloaded", None
        logger.info("engine %s unloaded", name)
        return self.engine_info(name)

    async def _ensure_loaded(self, name: str) -> SpeechEngine:
        slot = self._slot(name)
        if slot.state == "unloaded" and slot.loading is None:
            slot.loading = asyncio.ensure_future(self._load(name, slot))
        if slot.loading is not None:
            await asyncio.shield(slot.loading)
        if slot.state != "ready":
            raise EngineUnavailableError(f"engine {name!r} cannot run: {slot.error}", param="engine")
        slot.last_used = time.monotonic()
        return slot.engine

    async def _ensure_loaded_quietly(self, name: str) -> None:
        with contextlib.suppress(EngineUnavailableError):  # logged, and reported by /health
            await self._ensure_loaded(name)

    async def _load(self, name: str, slot: _Slot) -> None:
        slot.state = "loading"
        started = time.perf_counter()
        try:
            await asyncio.get_running_loop().run_in_executor(self._loader, slot.engine.load)
        except ChatterboxError as exc:
            slot.state, slot.error = "failed", exc.message
            logger.warning("engine %s unavailable: %s%s", name, exc.message, self._fallback_note(name))
        except Exception as exc:
            slot.state, slot.error = "failed", f"{type(exc).__name__}: {exc}"
            logger.exception("engine %s failed to load%s", name, self._fallback_note(name))
        else:
            slot.state, slot.error = "ready", None
            logger.info("engine %s ready in %.1f s", name, time.perf_counter() - started)
        finally:
            slot.loading = None

    def _fallback_note(self, name: str) -> str:
        fallback = self.settings.engines.fallback
        if name == self.settings.engines.default and fallback and fallback in self._slots:
            return f"; requests that name no engine are served by {fallback}"
        return ""

    async def _unload_idle_forever(self) -> None:
        idle = self.settings.models.idle_unload_seconds
        while True:
            await asyncio.sleep(min(max(idle / 4, 0.05), 30))
            now = time.monotonic()
            for name, slot in self._slots.items():
                if slot.state == "ready" and now - slot.last_used >= idle and self._worker.depth == 0:
                    logger.info("engine %s idle for %.0f s", name, now - slot.last_used)
                    await self.unload(name)

    # ---- state ------------------------------------------------------------------------------

    def _slot(self, name: str) -> _Slot:
        if name not in self._slots:
            raise self._unknown_engine(name)
        return self._slots[name]

    def _unknown_engine(self, name: str) -> ChatterboxError:
        known = sorted({*TTS_ENGINES, *VC_ENGINES, *self._slots})
        if name in known:
            return EngineUnavailableError(
                f"engine {name!r} is disabled (see engines.enabled)", param="engine"
            )
        return InvalidRequestError(
            f"unknown engine {name!r}; choose one of: {', '.join(known)}", param="engine"
        )

    def engine_info(self, name: str) -> dict[str, Any]:
        """State of one engine, with what it says about itself."""
        slot = self._slot(name)
        return {
            "name": name,
            "kind": slot.engine.kind,
            "state": slot.state,
            "error": slot.error,
            **slot.engine.describe(),
        }

    def engines_info(self) -> list[dict[str, Any]]:
        """State of every configured engine."""
        return [self.engine_info(name) for name in self._slots]

    def serving(self) -> tuple[str | None, str | None]:
        """The engine that answers requests naming none, and why it is not the default (or None)."""
        default, fallback = self.settings.engines.default, self.settings.engines.fallback
        slot = self._slots.get(default)
        if slot is not None and slot.state != "failed":
            return default, None
        reason = f"{default} is disabled" if slot is None else f"{default} unavailable: {slot.error}"
        if fallback and fallback in self._slots and self._slots[fallback].state != "failed":
            return fallback, reason
        return None, reason

    @property
    def queue_depth(self) -> int:
        """Model calls waiting or running."""
        return self._worker.depth

    @property
    def loading(self) -> bool:
        """Whether any engine is loading now."""
        return any(slot.state == "loading" for slot in self._slots.values())

    # ---- requests ---------------------------------------------------------------------------

    async def synthesize(self, request: SpeechRequest) -> SpeechResult:
        """Speak text with the named (or default) engine, save the WAV to outputs/, return it."""
        text = request.text.strip()
        if not text:
            raise InvalidRequestError("'text' must not be empty", param="text")
        limit = self.settings.limits.max_text_length
        if len(text) > limit:
            raise InvalidRequestError(
                f"'text' is {len(text)} characters; the limit is {limit} (limits.max_text_length)",
                param="text",
                code="string_above_max_length",
            )
        name, engine = await self._pick_tts(request.engine)
        voice = self._resolve_voice(engine, request.voice)
        params = self._params(request)
        chunks = split_text(text, engine.max_chunk_chars) if engine.max_chunk_chars else [text]
        started = time.perf_counter()
        clips = []
        for index, chunk in enumerate(chunks):
            # A seed per chunk keeps a long text repeatable even when other requests interleave.
            chunk_params = SynthesisParams(**{**params.__dict__, "seed": params.seed + index})
            clips.append(await self._call(name, engine.synthesize, chunk, voice, chunk_params))
        clip = concatenate(clips, crossfade_ms=CHUNK_CROSSFADE_MS)
        return self._finish(name, clip, params.seed, started, "tts", len(chunks))

    async def convert(self, request: ConversionRequest) -> SpeechResult:
        """Re-voice a clip from vc_inputs/ with a voice from voices/, save and return it."""
        name = VC_ENGINES[0]
        engine = await self._ensure_loaded(name)
        assert isinstance(engine, ConversionEngine)
        source = self.vc_inputs.resolve(request.source, param="input_audio_source")
        target = (
            self.voices.resolve(request.target_voice, param="target_voice_source")
            if request.target_voice
            else None
        )
        params = self._params(SpeechRequest(text="", seed=request.seed, watermark=request.watermark))
        started = time.perf_counter()
        clip = await self._call(name, engine.convert, source, target, params)
        return self._finish(name, clip, params.seed, started, "vc", 1)

    async def _pick_tts(self, requested: str | None) -> tuple[str, SynthesisEngine]:
        if requested is not None:
            slot = self._slot(requested)
            if slot.engine.kind != "tts":
                raise InvalidRequestError(
                    f"engine {requested!r} converts voices and cannot read text; use /api/v1/vc",
                    param="engine",
                )
            return requested, await self._ensure_loaded(requested)  # type: ignore[return-value]
        candidates = [self.settings.engines.default, self.settings.engines.fallback]
        failure: EngineUnavailableError | None = None
        for name in dict.fromkeys(c for c in candidates if c and c in self._slots):
            try:
                return name, await self._ensure_loaded(name)  # type: ignore[return-value]
            except EngineUnavailableError as exc:
                failure = exc
        raise failure or EngineUnavailableError("no text-to-speech engine is enabled (engines.enabled)")

    def _resolve_voice(self, engine: SynthesisEngine, voice: str | None) -> Path | str | None:
        if not voice:
            return None
        if engine.clones_voices:
            return self.voices.resolve(voice, param="voice")
        if not engine.has_voice(voice):
            raise NotFoundError(f"engine {engine.name!r} has no voice {voice!r}", param="voice")
        return voice

    def _params(self, request: SpeechRequest) -> SynthesisParams:
        defaults = self.settings.generation
        chosen = {
            key: getattr(request, key) if getattr(request, key) is not None else getattr(defaults, key)
            for key in ("exaggeration", "cfg_weight", "temperature", "repetition_penalty", "min_p", "top_p")
        }
        seed = request.seed or secrets.randbelow(2**32 - 1) + 1
        watermark = self.settings.models.watermark if request.watermark is None else request.watermark
        return SynthesisParams(**chosen, seed=seed, watermark=watermark)

    async def _call(self, name: str, fn: Any, *args: Any) -> Clip:
        def guarded() -> Clip:
            try:
                return fn(*args)
            except ChatterboxError:
                raise
            except Exception as exc:
                logger.exception("engine %s failed", name)
                raise GenerationError(f"engine {name!r} failed: {type(exc).__name__}: {exc}") from exc

        clip = await self._worker.run(guarded)
        self._slots[name].last_used = time.monotonic()
        return clip

    def _finish(
        self, name: str, clip: Clip, seed: int, started: float, kind: str, chunks: int
    ) -> SpeechResult:
        seconds = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.observe_generation(name, seconds, clip.duration)
        wav = encode(clip, "wav")
        path = self.outputs.save(wav, f"{kind}_{timestamp()}", "wav")
        logger.info(
            "%s by %s: %.2f s of audio in %.2f s -> %s", kind, name, clip.duration, seconds, path.name
        )
        return SpeechResult(clip, wav, path, name, seed, seconds, chunks)
