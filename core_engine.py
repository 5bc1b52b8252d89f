"""CoreEngine: the one place that owns the engines, the model worker, the pipeline and the stores.

The REST routes, the OpenAI route and the UI all call this; it takes and returns plain
dataclasses and never imports a web framework.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config import VC_ENGINES, Settings
from engines.base import ConversionEngine, SpeechEngine, SynthesisEngine, SynthesisParams
from engines.manager import EngineManager
from exceptions import InvalidRequestError, NotFoundError
from management.audio_library import AudioLibrary
from management.outputs import OutputStore, timestamp
from monitoring.metrics import Metrics
from utils.audio import Clip, PostProcessing, concatenate, encode, get_format
from utils.text import split_text

logger = logging.getLogger(__name__)

CHUNK_CROSSFADE_MS = 20.0
_SAMPLING_KEYS = ("exaggeration", "cfg_weight", "temperature", "repetition_penalty", "min_p", "top_p")


@dataclass(frozen=True)
class OutputOptions:
    """Where and how results are written."""

    formats: tuple[str, ...] = ("wav",)  # the first is the primary one
    project: str | None = None  # a folder inside outputs/
    post: PostProcessing = field(default_factory=PostProcessing)


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
    output: OutputOptions = field(default_factory=OutputOptions)


@dataclass(frozen=True)
class ConversionRequest:
    """A clip from vc_inputs/ to re-voice with a voice from voices/ (``None``: the built-in voice)."""

    source: str
    target_voice: str | None = None
    seed: int | None = None
    watermark: bool | None = None
    output: OutputOptions = field(default_factory=OutputOptions)


@dataclass(frozen=True)
class OutputFile:
    """One saved file of a result."""

    format: str
    path: Path
    relative: str  # inside outputs/, forward slashes: its URL is /outputs/<relative>
    content_type: str


@dataclass(frozen=True)
class SpeechResult:
    """Generated audio, the files it was saved as, and how it was made."""

    clip: Clip
    files: list[OutputFile]
    engine: str
    seed: int
    generation_seconds: float
    processing_seconds: float
    chunks: int


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
        self.engines = EngineManager(engines, settings.engines, settings.models)
        self.voices = AudioLibrary(settings.paths.voices_dir, label="voice")
        self.vc_inputs = AudioLibrary(settings.paths.vc_inputs_dir, label="vc input")
        self.outputs = OutputStore(settings.paths.outputs_dir)
        self.started_at = time.time()

    async def start(self, metrics: Metrics | None = None) -> None:
        """Create the data folders and begin loading (if configured); returns at once."""
        self.metrics = self.metrics or metrics
        if self.metrics is not None:
            self.metrics.queue_depth.set_function(lambda: self.engines.queue_depth)
        paths = self.settings.paths
        for folder in (paths.voices_dir, paths.outputs_dir, paths.vc_inputs_dir):
            Path(folder).mkdir(parents=True, exist_ok=True)
        self.engines.start()

    async def stop(self) -> None:
        """Stop background work and the model threads."""
        await self.engines.stop()

    # ---- requests ---------------------------------------------------------------------------

    async def synthesize(self, request: SpeechRequest) -> SpeechResult:
        """Speak text with the named (or default) engine, post-process, save every format, return."""
        started = time.perf_counter()
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
        _check_formats(request.output.formats)
        self.outputs.folder(request.output.project)  # refuse a bad project before the model runs
        name, engine = await self.engines.pick_tts(request.engine)
        voice = self._resolve_voice(engine, request.voice)
        params = self._params(request)
        chunks = split_text(text, engine.max_chunk_chars) if engine.max_chunk_chars else [text]
        clips = []
        for index, chunk in enumerate(chunks):
            # A seed per chunk keeps a long text repeatable even when other requests interleave.
            clips.append(
                await self.engines.call(
                    name, engine.synthesize, chunk, voice, replace(params, seed=params.seed + index)
                )
            )
        generated = time.perf_counter() - started
        clip = request.output.post.apply(concatenate(clips, crossfade_ms=CHUNK_CROSSFADE_MS))
        stem = _tts_stem(request, params)
        record = {"type": "tts", "engine": name, "voice": request.voice, "text": text, "chunks": len(chunks)}
        return self._save(name, clip, params, stem, record, request.output, started, generated, len(chunks))

    async def convert(self, request: ConversionRequest) -> SpeechResult:
        """Re-voice a clip from vc_inputs/ with a voice from voices/, save every format, return."""
        started = time.perf_counter()
        _check_formats(request.output.formats)
        self.outputs.folder(request.output.project)
        name = VC_ENGINES[0]
        engine = await self.engines.ensure_loaded(name)
        assert isinstance(engine, ConversionEngine)
        source = self.vc_inputs.resolve(request.source, param="input_audio_source")
        target = (
            self.voices.resolve(request.target_voice, param="target_voice_source")
            if request.target_voice
            else None
        )
        params = self._params(SpeechRequest(text="", seed=request.seed, watermark=request.watermark))
        clip = await self.engines.call(name, engine.convert, source, target, params)
        generated = time.perf_counter() - started
        clip = request.output.post.apply(clip)
        stem = f"vc_{timestamp()}" + (
            f"_voice{_short(Path(request.target_voice).stem)}" if request.target_voice else ""
        )
        record = {
            "type": "vc",
            "engine": name,
            "source": request.source,
            "target_voice": request.target_voice,
        }
        return self._save(name, clip, params, stem, record, request.output, started, generated, 1)

    # ---- engines ----------------------------------------------------------------------------

    async def load(self, name: str) -> dict[str, Any]:
        """Load an engine now (retrying one that failed) and describe it."""
        return await self.engines.load(name)

    async def unload(self, name: str) -> dict[str, Any]:
        """Free an engine's memory; it loads again on its next request."""
        return await self.engines.unload(name)

    def engines_info(self) -> list[dict[str, Any]]:
        """State of every configured engine."""
        return self.engines.infos()

    def serving(self) -> tuple[str | None, str | None]:
        """The engine that answers requests naming none, and why it is not the default (or None)."""
        return self.engines.serving()

    @property
    def queue_depth(self) -> int:
        """Model calls waiting or running."""
        return self.engines.queue_depth

    # ---- helpers ----------------------------------------------------------------------------

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
            for key in _SAMPLING_KEYS
        }
        seed = request.seed or secrets.randbelow(2**32 - 1) + 1
        watermark = self.settings.models.watermark if request.watermark is None else request.watermark
        return SynthesisParams(**chosen, seed=seed, watermark=watermark)

    def _save(
        self,
        name: str,
        clip: Clip,
        params: SynthesisParams,
        stem: str,
        record: dict[str, Any],
        output: OutputOptions,
        started: float,
        generated: float,
        chunks: int,
    ) -> SpeechResult:
        if self.metrics is not None:
            self.metrics.observe_generation(name, generated, clip.duration)
        encoded = {get_format(fmt).extension: encode(clip, fmt) for fmt in output.formats}
        metadata = {
            **record,
            "parameters": {**params.__dict__, "post_processing": output.post.__dict__},
            "duration_seconds": round(clip.duration, 3),
            "sample_rate": clip.sample_rate,
            "created": datetime.now(UTC).isoformat(),
            "processing_time_seconds": round(time.perf_counter() - started, 3),
        }
        paths = self.outputs.save(stem, encoded, metadata, project=output.project)
        files = [
            OutputFile(
                fmt,
                paths[get_format(fmt).extension],
                self.outputs.relative(paths[get_format(fmt).extension]),
                get_format(fmt).content_type,
            )
            for fmt in output.formats
        ]
        seconds = time.perf_counter() - started
        logger.info("%s: %.2f s of audio in %.2f s -> %s", name, clip.duration, seconds, files[0].relative)
        return SpeechResult(clip, files, name, params.seed, generated, seconds, chunks)


def _check_formats(formats: tuple[str, ...]) -> None:
    if not formats:
        raise InvalidRequestError("'export_formats' must name at least one format", param="export_formats")
    for fmt in formats:
        get_format(fmt, param="export_formats")


def _short(stem: str) -> str:
    """Plus's voice tag in VC names: word characters and dashes, at most 10."""
    return re.sub(r"[^\w-]", "", stem)[:10]


def _tts_stem(request: SpeechRequest, params: SynthesisParams) -> str:
    """Plus's name: ``tts_<ts>_temp<t>[_seed<s>][_exag<x>][_speed<f>][_trim<ms>]`` (seed only if asked for)."""
    stem = f"tts_{timestamp()}_temp{params.temperature}"
    if request.seed:
        stem += f"_seed{request.seed}"
    if params.exaggeration != 0.5:
        stem += f"_exag{params.exaggeration}"
    if request.output.post.speed_factor != 1.0:
        stem += f"_speed{request.output.post.speed_factor}"
    if request.output.post.trim:
        stem += f"_trim{request.output.post.trim_keep_ms:g}"
    return stem
