"""CoreEngine: the one place that owns the engines, the model worker, the pipeline and the stores.

The REST routes, the OpenAI route and the UI all call this; it takes and returns plain
dataclasses and never imports a web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from config import VC_ENGINES, Settings
from core.concatenator import Concatenator, ConcatJob, ConcatResult, ItemSpec
from core.jobs import JobManager
from core.progress import Progress, ProgressCallback, reporter
from core.requests import (
    ChunkReport,
    ConversionRequest,
    OutputFile,
    OutputOptions,
    SpeechRequest,
    SpeechResult,
    SpeechStream,
    TimedPiece,
    ValidationOptions,
)
from engines.base import ConversionEngine, SpeechEngine, SynthesisEngine, SynthesisParams, language_code
from engines.manager import EngineManager
from exceptions import ChatterboxError, InvalidRequestError, NotFoundError
from management.audio_library import AudioLibrary
from management.downloads import download_audio, is_url
from management.emotions import FOLDER as EMOTIONS_FOLDER
from management.emotions import PREFIX as EMOTION_PREFIX
from management.emotions import EmotionProfile, EmotionStore
from management.housekeeping import Housekeeper
from management.libraries import Libraries
from management.outputs import OutputStore, timestamp
from monitoring.metrics import Metrics
from recognition import WhisperPool, similarity
from recognition.takes import choose_take
from utils.audio import Clip, change_speed, concatenate, decode, encode, get_format, windows
from utils.audio.joiner import Joiner
from utils.audio.postprocess import TimeMap
from utils.files import project_folder
from utils.text import chunk_text, prepare_text

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

CHUNK_CROSSFADE_MS = 20.0
_SAMPLING_KEYS = (
    "exaggeration",
    "cfg_weight",
    "temperature",
    "repetition_penalty",
    "min_p",
    "top_p",
    "top_k",
)


@dataclass
class _SpeechPlan:
    """A checked TTS request: its text, engine, parameters and chunks."""

    text: str
    spoken: str
    name: str
    engine: SynthesisEngine
    params: SynthesisParams
    chunks: list[str]


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
        self.whisper = WhisperPool(settings.validation)
        self._asr = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr")
        self.started_at = time.time()
        self.jobs = JobManager(self)

    async def start(self, metrics: Metrics | None = None) -> None:
        """Create the data folders and begin loading (if configured); returns at once."""
        self.metrics = self.metrics or metrics
        if self.metrics is not None:
            self.metrics.queue_depth.set_function(lambda: self.engines.queue_depth)
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
        self._asr.shutdown(wait=False, cancel_futures=True)

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
        _check_formats(request.output.formats)
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
        stem = _tts_stem(request, params)
        record = _tts_record(plan, request, reports, warnings)
        timed = _timestamps(clips, reports, moved) if request.timestamps and moved else None
        if timed is not None:
            record["timestamps"] = [t.__dict__ for t in timed]
        result = await asyncio.to_thread(  # encoding a long text's formats takes a while: off the loop
            self._save,
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
            _check_streamable(request)
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
        plan: _SpeechPlan,
        request: SpeechRequest,
        clip: Clip,
        reports: list[ChunkReport],
        warnings: list[str],
        started: float,
    ) -> None:
        record = _tts_record(plan, request, reports, warnings) | {"streamed": True}
        generated = time.perf_counter() - started
        stem = _tts_stem(request, plan.params)
        await asyncio.to_thread(
            self._save,
            plan.name,
            clip,
            plan.params,
            stem,
            record,
            request.output,
            started,
            generated,
            reports,
            warnings,
        )

    async def _plan(self, request: SpeechRequest, *, split: bool = False) -> _SpeechPlan:
        """Check the text, pick the engine, settle the parameters and cut the text into chunks.

        ``split`` cuts text even for engines that take any length (Piper): streaming sends the first
        sentence before the rest is spoken, and timestamps need pieces to time.
        """
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
        spoken = prepare_text(text, request.text_options)
        if not spoken:
            raise InvalidRequestError("'text' has nothing left to speak after text handling", param="text")
        name, engine = await self.engines.pick_tts(request.engine)
        named = None if engine.clones_voices or not request.voice else request.voice
        if request.language and (named is None or engine.has_voice(named)):
            _language(engine, named, request.language)  # a 400 before any audio (streams start early)
        size = engine.max_chunk_chars or (self.settings.limits.max_chunk_chars if split else None)
        chunks = chunk_text(spoken, size, request.text_options) if size else [spoken]
        return _SpeechPlan(text, spoken, name, engine, self._params(request, engine), chunks)

    async def _speak(
        self,
        plan: _SpeechPlan,
        request: SpeechRequest,
        warnings: list[str],
        progress: ProgressCallback | None,
        *,
        wait: bool = False,
    ) -> AsyncIterator[tuple[Clip, ChunkReport]]:
        """Each chunk's kept take, in order (Whisper-checked when the engine varies with the seed)."""
        name, engine, chunks = plan.name, plan.engine, plan.chunks
        report_progress = reporter(progress, logger, f"tts ({name})")
        checker = await self._checker(request.validation, warnings) if engine.varies_with_seed else None
        warnings.extend(_ignored_controls(engine, request))
        seconds = 0.0
        async with (
            self.engines.admit(name, wait=wait),
            self._voice(engine, request.voice, request.voice_file) as voice,
        ):
            params = plan.params = replace(plan.params, language=_language(engine, voice, request.language))
            for index, chunk in enumerate(chunks):
                # Seeds derive from the request's seed, chunk and take: a long text is repeatable
                # even when other requests interleave on the model worker.
                async def generate(take: int, chunk: str = chunk, index: int = index) -> Clip:
                    seeded = replace(params, seed=(params.seed + index + take * 1_000_003) % 2**32)
                    return await self.engines.call(name, engine.synthesize, chunk, voice, seeded)

                clip, report = await self._take(index, chunk, generate, checker, request.validation)
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
        _check_formats(request.output.formats)
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
                    self._audio_file(self.vc_inputs, request.source, "input_audio_source")
                )
            target = request.target_file
            if target is None and request.target_voice:
                target = await stack.enter_async_context(
                    self._audio_file(self.voices, request.target_voice, "target_voice_source")
                )
            audio = await asyncio.to_thread(decode, source, param="input_audio_source")
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
        stem = _vc_stem(request)
        record = {
            "type": "vc",
            "engine": name,
            "source": request.source or source.name,
            "target_voice": request.target_voice or (request.target_file and request.target_file.name),
        }
        label = request.source or source.name
        reports = [ChunkReport(i, f"{label} window {i + 1}/{len(parts)}", 1) for i in range(len(parts))]
        return await asyncio.to_thread(
            self._save,
            name,
            clip,
            params,
            stem,
            record,
            request.output,
            started,
            generated,
            reports,
            [],
            original,
        )

    async def concat(self, job: ConcatJob, progress: ProgressCallback | None = None) -> ConcatResult:
        """Join files, uploads and silences into a new output (streamed: memory holds one segment)."""
        return await self.concatenator.concat(job, progress)

    # ---- Whisper validation -----------------------------------------------------------------

    async def _checker(self, options: ValidationOptions, warnings: list[str]) -> Any:
        """The Whisper model to check takes with, or None when checking is bypassed."""
        bypass = self.settings.validation.bypass if options.bypass is None else options.bypass
        if bypass:
            return None
        loop = asyncio.get_running_loop()
        _, model, warning = await loop.run_in_executor(self._asr, self.whisper.model, options.whisper_model)
        if warning:
            warnings.append(warning)
        return model

    async def _take(
        self, index: int, chunk: str, generate: Any, checker: Any, options: ValidationOptions
    ) -> tuple[Clip, ChunkReport]:
        if checker is None:
            return await generate(0), ChunkReport(index, chunk, 1)
        config = self.settings.validation
        loop = asyncio.get_running_loop()

        async def check(clip: Clip) -> tuple[str, float]:
            heard = await loop.run_in_executor(self._asr, self.whisper.transcribe, checker, clip)
            return heard, similarity(heard, chunk)

        longest = (
            config.use_longest_transcript_on_fail
            if options.longest_on_fail is None
            else options.longest_on_fail
        )
        choice = await choose_take(
            generate,
            check,
            candidates=options.candidates or config.num_candidates_per_chunk,
            attempts=options.attempts or config.max_attempts_per_candidate,
            min_score=config.min_score,
            longest_on_fail=longest,
        )
        take = choice.take
        report = ChunkReport(index, chunk, choice.takes, round(take.score, 3), take.transcript, choice.passed)
        return take.clip, report

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
        """The emotion profile a voice value names; a file in voices/ of that name wins.

        ``emotion:<id>`` always means a profile (404 when there is none); a bare id or
        ``<character>:<emotion>`` does when no voice file answers to it.
        """
        if not voice or is_url(voice):
            return None
        if voice.strip().lower().startswith(EMOTION_PREFIX):
            profile = self.emotions.find(voice)
            if profile is None:
                raise NotFoundError(
                    f"no emotion profile {voice.strip()[len(EMOTION_PREFIX) :]!r}", param=param
                )
            return profile
        try:
            self.voices.resolve(voice, param=param)
            return None
        except (NotFoundError, InvalidRequestError):
            return self.emotions.find(voice)

    def with_defaults(self, request: SpeechRequest) -> SpeechRequest:
        """Fill the controls a request left unset from its voice: an emotion profile (whose first
        sample becomes the voice) or a library voice's saved ``default_parameters``."""
        if request.voice_file is not None or not request.voice:
            return request
        profile = self.profile_for(request.voice)
        if profile is not None:
            fills = {key: value for key, value in profile.defaults.items() if getattr(request, key) is None}
            return replace(request, voice=profile.samples[0], emotion_profile=profile.id, **fills)
        if is_url(request.voice):
            return request
        try:
            path = self.voices.resolve(request.voice, param="voice")
        except ChatterboxError:
            return request  # not a library file: the engine's own voice names are checked later
        saved = self.libraries.voice_library.default_parameters(path)
        return replace(request, **{k: v for k, v in saved.items() if getattr(request, k) is None})

    @contextlib.asynccontextmanager
    async def _voice(
        self, engine: SynthesisEngine, voice: str | None, upload: Path | None
    ) -> AsyncIterator[Path | str | None]:
        """What the engine takes as ``voice``: a reference file for cloning engines, else a name."""
        if upload is not None:
            if not engine.clones_voices:
                raise InvalidRequestError(
                    f"engine {engine.name!r} cannot clone a voice from audio", param="reference_audio"
                )
            try:
                yield upload
            except InvalidRequestError as exc:
                if exc.param != "voice":
                    raise
                raise InvalidRequestError(exc.message, param="reference_audio", code=exc.code) from exc
        elif not voice:
            yield None
        elif engine.clones_voices:
            async with self._audio_file(self.voices, voice, "voice") as path:
                yield path
        elif engine.has_voice(voice):
            yield voice
        else:
            raise NotFoundError(f"engine {engine.name!r} has no voice {voice!r}", param="voice")

    @contextlib.asynccontextmanager
    async def _audio_file(self, library: AudioLibrary, name: str, param: str) -> AsyncIterator[Path]:
        """A library file by name, or a URL downloaded for the length of the request."""
        if not is_url(name):
            path = library.resolve(name, param=param)
            yield path
            if library is self.voices:  # counted once the request has used it
                await asyncio.to_thread(self.libraries.voice_library.record_use, path)
            return
        path = await asyncio.to_thread(
            download_audio, name, Path(self.settings.paths.temp_dir), self.settings.downloads, param=param
        )
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

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
        chunks: list[ChunkReport],
        warnings: list[str],
        original: Clip | None = None,
    ) -> SpeechResult:
        if self.metrics is not None:
            self.metrics.observe_generation(name, generated, clip.duration)
        formats = [get_format(fmt) for fmt in output.formats]
        encoded = {fmt.extension: encode(clip, fmt) for fmt in formats}
        metadata = {
            **record,
            "parameters": {**params.__dict__, "post_processing": output.post.__dict__},
            "duration_seconds": round(clip.duration, 3),
            "sample_rate": clip.sample_rate,
            "created": datetime.now(UTC).isoformat(),
            "processing_time_seconds": round(time.perf_counter() - started, 3),
        }
        kept = self._save_original(original, stem, metadata, output.project) if original else None
        if kept is not None:
            metadata["original_file"] = kept.name
        try:
            paths = self.outputs.save(stem, encoded, metadata, project=output.project)
        except BaseException:
            if kept is not None:
                kept.unlink(missing_ok=True)
                kept.with_suffix(".json").unlink(missing_ok=True)
            raise
        files = [
            OutputFile(
                fmt.name, paths[fmt.extension], self.outputs.relative(paths[fmt.extension]), fmt.content_type
            )
            for fmt in formats
        ]
        seconds = time.perf_counter() - started
        logger.info("%s: %.2f s of audio in %.2f s -> %s", name, clip.duration, seconds, files[0].relative)
        return SpeechResult(clip, files, name, params.seed, generated, seconds, chunks, warnings)

    def _save_original(
        self, original: Clip, stem: str, metadata: dict[str, Any], project: str | None
    ) -> Path:
        """``<stem>_original.wav`` (with its own sidecar): the audio as it was before auto-editor."""
        record = {**metadata, "auto_editor_original": True, "duration_seconds": round(original.duration, 3)}
        return self.outputs.save(
            f"{stem}_original", {"wav": encode(original, "wav")}, record, project=project
        )["wav"]


def _tts_record(
    plan: _SpeechPlan, request: SpeechRequest, reports: list[ChunkReport], warnings: list[str]
) -> dict[str, Any]:
    """What the output's metadata says about how TTS made it."""
    record = {"type": "tts", "engine": plan.name, "voice": request.voice, "language": plan.params.language}
    if request.emotion_profile:
        record["emotion_profile"] = request.emotion_profile
    record |= {"text": plan.text, "spoken_text": plan.spoken}
    return record | {"chunks": [r.__dict__ for r in reports], "warnings": warnings}


def _ignored_controls(engine: SynthesisEngine, request: SpeechRequest) -> list[str]:
    """A warning naming the controls the request set that this engine has no use for (turbo's CFG)."""
    ignored = [key for key in getattr(engine, "ignored_controls", ()) if getattr(request, key) is not None]
    return [f"{engine.name} ignores {', '.join(ignored)}"] if ignored else []


def _check_streamable(request: SpeechRequest) -> None:
    """Refuse what progressive streaming cannot do, naming the field; check formats and project first."""
    _check_formats(request.output.formats)
    post = request.output.post
    for wanted, field_name in (
        (post.trim, "trim"),
        (post.normalize is not None, "normalize_audio"),
        (post.auto_editor, "use_auto_editor"),
        (request.timestamps, "timestamps"),
    ):
        if wanted:
            raise InvalidRequestError(
                f"'{field_name}' needs the whole audio and cannot be streamed as it is generated; "
                "leave out 'stream' (the file is still streamed once it is ready) or this option",
                param=field_name,
            )


def _timestamps(clips: list[Clip], reports: list[ChunkReport], moved: TimeMap) -> list[TimedPiece]:
    """Where each chunk is heard: its span in the crossfaded join, moved by speed and trim."""
    pieces, position = [], 0
    for index, (clip, report) in enumerate(zip(clips, reports, strict=True)):
        rate = clip.sample_rate
        if index:  # ``concatenate`` overlaps each seam by the crossfade (or less, for tiny clips)
            position -= min(int(rate * CHUNK_CROSSFADE_MS / 1000), position, len(clip.samples))
        start, position = position, position + len(clip.samples)
        begin, end = moved(start / rate), moved(position / rate)
        pieces.append(TimedPiece(index, report.text, round(begin, 3), round(end, 3)))
    return pieces


def _language(engine: SynthesisEngine, voice: Path | str | None, requested: str | None) -> str | None:
    """The language to speak: the requested one if the engine (with this voice) speaks it, else a 400."""
    named = voice if isinstance(voice, str) else None  # a cloned voice does not change the language
    speaks = engine.languages_for(named)
    if requested is None:
        return speaks[0] if speaks else None
    code = language_code(requested)
    if speaks and code not in speaks:
        who = f"engine {engine.name!r}" + (f" with voice {named!r}" if named else "")
        raise InvalidRequestError(
            f"{who} cannot speak language {requested!r}; it speaks: {', '.join(speaks)}", param="language"
        )
    return code


def _check_formats(formats: tuple[str, ...]) -> None:
    if not formats:
        raise InvalidRequestError("'export_formats' must name at least one format", param="export_formats")
    for fmt in formats:
        get_format(fmt, param="export_formats")


def _short(stem: str) -> str:
    """Plus's voice tag in VC names: word characters and dashes, at most 10."""
    return re.sub(r"[^\w-]", "", stem)[:10]


def _vc_stem(request: ConversionRequest) -> str:
    """Plus's name: ``vc_<ts>[_chunk<n>][_overlap<x>][_voice<target>]`` (chunk/overlap when not default)."""
    stem = f"vc_{timestamp()}"
    if request.chunk_sec != 60:
        stem += f"_chunk{request.chunk_sec:g}"
    if request.overlap_sec != 0.1:
        stem += f"_overlap{request.overlap_sec:g}"
    if request.target_voice:
        stem += f"_voice{_short(Path(request.target_voice).stem)}"
    return stem


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
        stem += f"_trim{request.output.post.trim_threshold_ms:g}"
    return stem
