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
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from config import VC_ENGINES, GenerationSettings, Settings
from core.ahead import ahead
from core.checks import (
    check_formats,
    check_language,
    check_request_language,
    check_streamable,
    check_text,
    ignored_controls,
)
from core.concatenator import Concatenator, ConcatJob, ConcatResult, ItemSpec
from core.jobs import JobManager
from core.naming import tts_stem, vc_stem
from core.progress import Progress, ProgressCallback, reporter
from core.records import CHUNK_CROSSFADE_MS, SpeechPlan, timed_pieces, tts_record
from core.requests import (
    ChunkReport,
    ConversionRequest,
    OutputFile,
    OutputOptions,
    SpeechRequest,
    SpeechResult,
    SpeechStream,
    ValidationOptions,
)
from core.saving import MadeAudio, save_result
from core.takes import TakeChecker
from core.voice_sources import VoiceSources
from engines.base import (
    MIN_VC_INPUT_SECONDS,
    ConversionEngine,
    SpeechEngine,
    SynthesisEngine,
    SynthesisParams,
)
from engines.manager import EngineManager
from exceptions import ChatterboxError, InvalidRequestError
from management.audio_library import AudioLibrary
from management.emotions import FOLDER as EMOTIONS_FOLDER
from management.emotions import EmotionProfile, EmotionStore
from management.housekeeping import Housekeeper
from management.libraries import Libraries
from management.outputs import OutputStore
from monitoring.metrics import Metrics
from utils.audio import Clip, change_speed, check_usable, concatenate, decode, windows
from utils.audio.joiner import Joiner
from utils.files import project_folder
from utils.text import chunk_text

__all__ = [
    "ChunkReport",
    "ConcatJob",
    "ConcatResult",
    "ConversionRequest",
    "CoreEngine",
    "ItemSpec",
    "OutputFile",
    "OutputOptions",
    "Progress",
    "ProgressCallback",
    "SpeechRequest",
    "SpeechResult",
    "SpeechStream",
    "ValidationOptions",
]

logger = logging.getLogger(__name__)

# The sampling fields of SynthesisParams that have a configured default (config.GenerationSettings):
# a request leaves them unset to get the engine's or the config's value.
_SAMPLING_KEYS = tuple(f.name for f in fields(SynthesisParams) if f.name in GenerationSettings.model_fields)


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
        self.engines = EngineManager(
            engines, settings.engines, settings.models, max_queued=settings.limits.max_queued_requests
        )
        self.voices = AudioLibrary(settings.paths.voices_dir, label="voice")
        self.vc_inputs = AudioLibrary(settings.paths.vc_inputs_dir, label="vc input")
        self.emotions = EmotionStore(Path(settings.paths.voices_dir) / EMOTIONS_FOLDER, self.voices)
        self.libraries = Libraries(settings.paths)  # the metadata index of outputs/ and vc_inputs/
        self.voice_sources = VoiceSources(settings, self.voices, self.emotions, self.libraries)
        self.outputs = OutputStore(settings.paths.outputs_dir, self.libraries.outputs)
        self.concatenator = Concatenator(
            self.outputs, self.voices, self.vc_inputs, Path(settings.paths.temp_dir)
        )
        paths = settings.paths
        self.housekeeper = Housekeeper(
            settings.housekeeping,
            {"outputs": paths.outputs_dir, "voices": paths.voices_dir, "vc_inputs": paths.vc_inputs_dir},
            Path(paths.temp_dir),
            {catalog.library: catalog for catalog in self.libraries.all},
        )
        self.takes = TakeChecker(settings.validation)
        self.started_at = time.time()
        self.jobs = JobManager(self)

    async def start(self, metrics: Metrics | None = None) -> None:
        """Create the data folders and begin loading (if configured); returns at once."""
        self.metrics = self.metrics or metrics
        if self.metrics is not None:
            self.metrics.queue_depth.set_function(lambda: self.engines.queue_depth)
            self.metrics.watch_batches(self.engines.batches)
        paths = self.settings.paths
        for folder in (paths.voices_dir, paths.outputs_dir, paths.vc_inputs_dir):
            Path(folder).mkdir(parents=True, exist_ok=True)
        self.libraries.start()
        if self.settings.models.warm_voices:
            self.engines.on_ready(self._warm_voices)
        self.housekeeper.start()
        self.engines.start()

    async def stop(self) -> None:
        """Stop background work and the model threads."""
        await self.jobs.stop()
        await asyncio.to_thread(self.housekeeper.stop)
        await self.engines.stop()
        await asyncio.to_thread(self.libraries.stop)
        self.takes.stop()

    async def _warm_voices(self, name: str) -> None:
        """Condition ``models.warm_voices`` on an engine that just loaded (if it clones voices)."""
        prepare = getattr(self.engines.engine(name), "prepare_voice", None)
        if prepare is None:
            return
        for voice in self.settings.models.warm_voices:
            try:
                path = self.voices.resolve(voice, param="models.warm_voices")
                key = await self.engines.call(name, prepare, path)
            except ChatterboxError as exc:
                logger.warning("could not warm voice %r on %s: %s", voice, name, exc.message)
            else:
                logger.info("voice %r warmed on %s (%s)", voice, name, key)

    # ---- requests ---------------------------------------------------------------------------

    async def synthesize(
        self, request: SpeechRequest, progress: ProgressCallback | None = None, *, wait_for_room: bool = False
    ) -> SpeechResult:
        """Speak text with the named (or default) engine, post-process, save every format, return.

        ``progress`` hears of each chunk as it is done (``Progress("speak", done, total)``). A full
        model queue raises ServerBusyError, unless ``wait_for_room`` (long-text jobs wait their turn).
        """
        started = time.perf_counter()
        check_formats(request.output.formats)
        self.outputs.folder(request.output.project)  # refuse a bad project before the model runs
        if request.timestamps and request.output.post.auto_editor:
            raise InvalidRequestError(
                "timestamps cannot be given for audio whose inner silences auto-editor shortens "
                "(use_auto_editor): turn one of them off",
                param="timestamps",
            )
        request = self.with_defaults(request)
        plan = await self._plan(request, split=request.timestamps)
        if not wait_for_room:
            self.engines.check_room(plan.name)
        clips, reports, warnings = [], [], []
        async for clip, report in self._speak(plan, request, warnings, progress, wait=wait_for_room):
            clips.append(clip)
            reports.append(report)
        generated = time.perf_counter() - started
        joined = concatenate(clips, crossfade_ms=CHUNK_CROSSFADE_MS)
        clip, original, moved = await asyncio.to_thread(request.output.post.run_timed, joined)  # off the loop
        params = plan.params
        stem = tts_stem(request, params)
        record = tts_record(plan, request, reports, warnings)
        timed = timed_pieces(clips, reports, moved) if request.timestamps and moved else None
        if timed is not None:
            record["timestamps"] = [t.__dict__ for t in timed]
        made = MadeAudio(
            plan.name,
            clip,
            params,
            stem,
            record,
            request.output,
            started,
            generated,
            reports,
            warnings,
            original,
        )
        # encoding a long text's formats takes a while: off the loop
        result = await asyncio.to_thread(save_result, made, self.outputs, self.metrics)
        return replace(result, timestamps=timed)

    async def stream(self, request: SpeechRequest, *, save: bool = False) -> SpeechStream:
        """Speak text piece by piece: the audio of each chunk as soon as it is generated.

        Checks happen before this returns (a bad request raises here, not mid-stream). Chunks are
        joined with the same short crossfade as ``synthesize``; ``request.output.post.speed_factor``
        applies per chunk. With ``save``, once the last piece has been heard the whole audio is saved
        in every export format, as ``synthesize`` would; a stream stopped early saves nothing.
        Trim, loudness and auto-editor need the whole audio, so they cannot be streamed.
        """
        started = time.perf_counter()
        if save:
            check_streamable(request)
            self.outputs.folder(request.output.project)  # a bad project is a 400 now, not a lost save later
        request = self.with_defaults(request)
        plan = await self._plan(request, split=True)
        self.engines.check_room(plan.name)  # the place itself is taken when generation starts
        speed = request.output.post.speed_factor
        heard: list[np.ndarray] = []
        reports: list[ChunkReport] = []
        warnings: list[str] = []

        async def pieces() -> AsyncIterator[Clip]:
            joiner: Joiner | None = None
            rate = 0
            async for clip, report in self._speak(plan, request, warnings, None):
                reports.append(report)
                if speed != 1.0:
                    clip = await asyncio.to_thread(change_speed, clip, speed)
                if joiner is None:
                    rate = clip.sample_rate
                    joiner = Joiner(hold=int(rate * CHUNK_CROSSFADE_MS / 1000))
                if (ready := joiner.add(clip.samples, crossfade=joiner.hold)).size:
                    if save:
                        heard.append(ready)
                    yield Clip(ready, rate)
            if joiner is not None and (rest := joiner.finish()).size:
                if save:
                    heard.append(rest)
                yield Clip(rest, rate)
            if save and heard:
                await self._save_streamed(
                    plan, request, Clip(np.concatenate(heard), rate), reports, warnings, started
                )

        return SpeechStream(plan.name, plan.params.seed, pieces())

    async def _save_streamed(
        self,
        plan: SpeechPlan,
        request: SpeechRequest,
        clip: Clip,
        reports: list[ChunkReport],
        warnings: list[str],
        started: float,
    ) -> None:
        record = tts_record(plan, request, reports, warnings) | {"streamed": True}
        generated = time.perf_counter() - started
        stem = tts_stem(request, plan.params)
        made = MadeAudio(
            plan.name, clip, plan.params, stem, record, request.output, started, generated, reports, warnings
        )
        await asyncio.to_thread(save_result, made, self.outputs, self.metrics)

    def precheck(self, request: SpeechRequest) -> None:
        """What can be refused without loading a model (text, engine, language): jobs ask at once."""
        check_text(request, self.settings.limits.max_text_length)
        name = request.engine or self.engines.serving()[0]
        engine = self.engines.engine(name) if name else None  # an unknown engine: 400 naming `engine`
        if engine is not None and engine.kind == "tts":
            check_request_language(engine, request)  # type: ignore[arg-type]

    async def _plan(self, request: SpeechRequest, *, split: bool = False) -> SpeechPlan:
        """Check the text, pick the engine, settle the parameters and cut the text into chunks.

        ``split`` cuts text even for engines that take any length (Piper): streaming sends the first
        sentence before the rest is spoken, and timestamps need pieces to time.
        """
        text, spoken = check_text(request, self.settings.limits.max_text_length)
        name, engine = await self.engines.pick_tts(request.engine)
        check_request_language(engine, request)
        size = engine.max_chunk_chars or (self.settings.limits.max_chunk_chars if split else None)
        chunks = chunk_text(spoken, size, request.text_options) if size else [spoken]
        return SpeechPlan(text, spoken, name, engine, self._params(request, engine), chunks)

    async def _speak(
        self,
        plan: SpeechPlan,
        request: SpeechRequest,
        warnings: list[str],
        progress: ProgressCallback | None,
        *,
        wait: bool = False,
    ) -> AsyncIterator[tuple[Clip, ChunkReport]]:
        """Each chunk's kept take, in order (Whisper-checked when the engine varies with the seed)."""
        name, engine, chunks = plan.name, plan.engine, plan.chunks
        report_progress = reporter(progress, logger, f"tts ({name})")
        checker = await self.takes.checker(request.validation, warnings) if engine.varies_with_seed else None
        warnings.extend(ignored_controls(engine, request))
        seconds = 0.0
        async with (
            self.engines.admit(name, wait=wait),
            self.voice_sources.for_engine(engine, request.voice, request.voice_file) as voice,
        ):
            params = plan.params = replace(
                plan.params, language=check_language(engine, voice, request.language)
            )

            def take(index: int) -> Awaitable[tuple[Clip, ChunkReport]]:
                # Seeds derive from the request's seed, chunk and take: a long text is repeatable
                # even when other requests interleave on the model worker.
                async def generate(take: int) -> Clip:
                    seeded = replace(params, seed=(params.seed + index + take * 1_000_003) % 2**32)
                    return await self.engines.call(name, engine.synthesize, chunks[index], voice, seeded)

                return self.takes.take(index, chunks[index], generate, checker, request.validation)

            # An engine that batches (our T3 loop) gets the next few chunks at once; they are heard in order.
            async with ahead(take, len(chunks), getattr(engine, "chunks_ahead", 1)) as results:
                for index in range(len(chunks)):
                    clip, report = await results(index)
                    seconds += clip.duration
                    yield clip, report
                    report_progress(Progress("speak", index + 1, len(chunks), round(seconds, 3)))

    async def convert(
        self, request: ConversionRequest, progress: ProgressCallback | None = None
    ) -> SpeechResult:
        """Re-voice a clip from vc_inputs/ with a voice from voices/, save every format, return.

        ``progress`` hears of each window as it is done (``Progress("convert", done, total)``).
        """
        started = time.perf_counter()
        check_formats(request.output.formats)
        self.outputs.folder(request.output.project)
        if request.source_file is None and not request.source:
            raise InvalidRequestError(
                "give 'input_audio_source' (a file in vc_inputs/ or a URL) or upload 'input_audio'",
                param="input_audio_source",
            )
        if (profile := self.profile_for(request.target_voice, param="target_voice_source")) is not None:
            request = replace(request, target_voice=profile.samples[0])
        name = VC_ENGINES[0]
        self.engines.check_room(name)
        engine = await self.engines.ensure_loaded(name)
        assert isinstance(engine, ConversionEngine)
        params = self._params(SpeechRequest(text="", seed=request.seed, watermark=request.watermark))
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.engines.admit(name))
            source = request.source_file
            if source is None:
                assert request.source is not None
                source = await stack.enter_async_context(
                    self.voice_sources.audio_file(self.vc_inputs, request.source, "input_audio_source")
                )
            target = request.target_file
            if target is None and request.target_voice:
                target = await stack.enter_async_context(
                    self.voice_sources.audio_file(self.voices, request.target_voice, "target_voice_source")
                )
            audio = await asyncio.to_thread(decode, source, param="input_audio_source")
            check_usable(
                audio.samples,
                audio.sample_rate,
                name="the input",
                param="input_audio_source",
                min_seconds=MIN_VC_INPUT_SECONDS,
            )
            parts = windows(audio, request.chunk_sec, request.overlap_sec)
            outputs = []
            report_progress = reporter(progress, logger, f"vc ({name})")
            for i, part in enumerate(parts):
                seeded = replace(params, seed=params.seed + i)
                outputs.append(await self.engines.call(name, engine.convert, part, target, seeded))
                report_progress(Progress("convert", i + 1, len(parts)))
        clip = concatenate(outputs, crossfade_ms=request.overlap_sec * 1000)
        generated = time.perf_counter() - started
        clip, original = await asyncio.to_thread(request.output.post.run, clip)
        stem = vc_stem(request)
        record = {
            "type": "vc",
            "engine": name,
            "source": request.source or source.name,
            "target_voice": request.target_voice or (request.target_file and request.target_file.name),
        }
        label = request.source or source.name
        reports = [ChunkReport(i, f"{label} window {i + 1}/{len(parts)}", 1) for i in range(len(parts))]
        made = MadeAudio(
            name, clip, params, stem, record, request.output, started, generated, reports, [], original
        )
        return await asyncio.to_thread(save_result, made, self.outputs, self.metrics)

    async def concat(self, job: ConcatJob, progress: ProgressCallback | None = None) -> ConcatResult:
        """Join files, uploads and silences into a new output (streamed: memory holds one segment)."""
        return await self.concatenator.concat(job, progress)

    def vc_inputs_folder(self, project: str | None) -> Path:
        """The vc_inputs/ folder for a project (created when missing; refuses escapes)."""
        return project_folder(Path(self.settings.paths.vc_inputs_dir), project)

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

    def profile_for(self, voice: str | None, *, param: str = "voice") -> EmotionProfile | None:
        """The emotion profile a voice value names; a file in voices/ of that name wins."""
        return self.voice_sources.profile_for(voice, param=param)

    def with_defaults(self, request: SpeechRequest) -> SpeechRequest:
        """Fill the controls a request left unset from its voice (emotion profile or saved defaults)."""
        return self.voice_sources.with_defaults(request)

    def _params(self, request: SpeechRequest, engine: SynthesisEngine | None = None) -> SynthesisParams:
        """Sampling controls: the request's, else the engine's own defaults (turbo), else ``generation``."""
        own = getattr(engine, "sampling_defaults", {})
        defaults = {key: own.get(key, getattr(self.settings.generation, key)) for key in _SAMPLING_KEYS}
        chosen = {
            key: getattr(request, key) if getattr(request, key) is not None else defaults[key]
            for key in _SAMPLING_KEYS
        }
        seed = request.seed or secrets.randbelow(2**32 - 1) + 1
        watermark = self.settings.models.watermark if request.watermark is None else request.watermark
        return SynthesisParams(**chosen, seed=seed, watermark=watermark)
