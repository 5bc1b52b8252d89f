"""The conversion service: the words and timing of one clip, re-voiced in another voice (``/api/v1/vc``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

from config import VC_ENGINES, Settings
from core.checks import check_formats
from core.naming import vc_stem
from core.progress import Progress, ProgressCallback, reporter
from core.requests import ChunkReport, ConversionRequest, SpeechRequest, SpeechResult
from core.saving import MadeAudio, ResultSaver
from core.speech import synthesis_params
from core.voice_sources import VoiceSources
from engines.base import MIN_REFERENCE_SECONDS, MIN_VC_INPUT_SECONDS, ConversionEngine, SynthesisParams
from engines.manager import EngineManager
from exceptions import InvalidRequestError
from management.library_files import AudioFolder
from utils.audio import Clip, check_usable, concatenate, decode, windows

logger = logging.getLogger(__name__)


class ConversionService:
    """Re-voices a clip from vc_inputs/ (or an upload, or a URL) with a voice from voices/."""

    def __init__(
        self,
        settings: Settings,
        engines: EngineManager,
        voice_sources: VoiceSources,
        libraries: tuple[AudioFolder, AudioFolder],  # voices/, vc_inputs/
        saver: ResultSaver,
    ) -> None:
        self.settings = settings
        self._engines = engines
        self._voices = voice_sources
        self._voice_files, self._inputs = libraries
        self._saver = saver

    async def convert(
        self, request: ConversionRequest, progress: ProgressCallback | None = None
    ) -> SpeechResult:
        """Re-voice a clip from vc_inputs/ with a voice from voices/, save every format, return.

        ``progress`` hears of each window as it is done (``Progress("convert", done, total)``).
        """
        started = time.perf_counter()
        check_formats(request.output.formats)
        self._saver.outputs.folder(request.output.project)
        if request.source_file is None and not request.source:
            raise InvalidRequestError(
                "give 'input_audio_source' (a file in vc_inputs/ or a URL) or upload 'input_audio'",
                param="input_audio_source",
            )
        if (
            profile := self._voices.profile_for(request.target_voice, param="target_voice_source")
        ) is not None:
            request = replace(request, target_voice=profile.samples[0])
        name = VC_ENGINES[0]
        request_seed = SpeechRequest(text="", seed=request.seed, watermark=request.watermark)
        params = synthesis_params(self.settings, request_seed)
        async with contextlib.AsyncExitStack() as stack:
            # The clips are fetched and checked before the model is asked for: a bad file is a 400
            # at once, whether or not the engine is loaded (or loading, or off).
            source, target, audio = await self._inputs_of(request, stack)
            self._engines.check_room(name)
            engine = cast(ConversionEngine, await self._engines.ensure_loaded(name))  # its kind is "vc"
            await stack.enter_async_context(self._engines.admit(name))
            parts = windows(audio, request.chunk_sec, request.overlap_sec)
            outputs: list[Clip] = []
            report_progress = reporter(progress, logger, f"vc ({name})")
            for i, part in enumerate(parts):
                seeded = replace(params, seed=params.seed + i)
                outputs.append(await self._engines.call(name, engine.convert, part, target, seeded))
                report_progress(Progress("convert", i + 1, len(parts)))
        return await self._save(request, name, params, outputs, source, started)

    async def _inputs_of(
        self, request: ConversionRequest, stack: contextlib.AsyncExitStack
    ) -> tuple[Path, Path | None, Clip]:
        """The input file, the target voice's file (None: the engine's own voice) and the decoded input,
        each checked: the input lasts ``MIN_VC_INPUT_SECONDS``, the target ``MIN_REFERENCE_SECONDS``."""
        source = request.source_file
        if source is None:
            assert request.source is not None
            source = await stack.enter_async_context(
                self._voices.audio_file(self._inputs, request.source, "input_audio_source")
            )
        target = request.target_file
        if target is None and request.target_voice:
            target = await stack.enter_async_context(
                self._voices.audio_file(self._voice_files, request.target_voice, "target_voice_source")
            )
        audio = await _checked(source, "the input", "input_audio_source", MIN_VC_INPUT_SECONDS)
        if target is not None and request.target_file is None:  # an upload was checked on arrival
            await _checked(target, "the target voice", "target_voice_source", MIN_REFERENCE_SECONDS)
        return source, target, audio

    async def _save(
        self,
        request: ConversionRequest,
        name: str,
        params: SynthesisParams,
        outputs: list[Clip],
        source: Path,
        started: float,
    ) -> SpeechResult:
        clip = concatenate(outputs, crossfade_ms=request.overlap_sec * 1000)
        generated = time.perf_counter() - started
        clip, original = await asyncio.to_thread(request.output.post.run, clip)
        record = {
            "type": "vc",
            "engine": name,
            "source": request.source or source.name,
            "target_voice": request.target_voice or (request.target_file and request.target_file.name),
        }
        label = request.source or source.name
        count = len(outputs)
        reports = [ChunkReport(i, f"{label} window {i + 1}/{count}", 1) for i in range(count)]
        made = MadeAudio(
            name,
            clip,
            params,
            vc_stem(request),
            record,
            request.output,
            started,
            generated,
            reports,
            [],
            original,
        )
        return await asyncio.to_thread(self._saver.save, made)


async def _checked(path: Path, name: str, param: str, min_seconds: float) -> Clip:
    """The clip decoded, refused (400 naming ``param``) when a model could not use it."""
    clip = await asyncio.to_thread(decode, path, param=param)
    check_usable(clip.samples, clip.sample_rate, name=name, param=param, min_seconds=min_seconds)
    return clip
