"""CoreEngine: the composition root. It builds the engines' manager, the stores and the services.

One service per use case lives in ``core/``: ``SpeechService`` (core/speech.py), ``ConversionService``
(core/conversion.py), ``Concatenator`` (core/concat/service.py), ``JobManager`` (core/jobs.py),
``VoiceSources`` (voices and emotion profiles) and ``ResultSaver`` (outputs). The routes and the UI
call the services, or the one-line methods here that hand a request to one; nothing here imports a
web framework.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config import Settings
from core.concat import Concatenator, ConcatJob, ConcatResult, ItemSpec
from core.conversion import ConversionService
from core.engine_list import EngineListing, engine_listing
from core.jobs import JobManager
from core.openai_compat import Delivery, OpenAISpeech, VoiceChoice, open_stream, speech_request
from core.progress import Progress, ProgressCallback
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
from core.saving import ResultSaver
from core.speech import SpeechService
from core.take_checker import TakeChecker
from core.voice_sources import VoiceSources
from engines.base import PreparesVoice, SpeechEngine
from engines.manager import EngineManager
from engines.memory import MemoryReport
from engines.remote import engine_name
from exceptions import ChatterboxError
from management.emotions import FOLDER as EMOTIONS_FOLDER
from management.emotions import EmotionProfile, EmotionStore
from management.housekeeping import Housekeeper
from management.libraries import Libraries
from management.outputs import OutputStore
from monitoring.metrics import Metrics
from utils.audio.formats import configure_formats
from utils.files import project_folder

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
        configure_formats(  # settings audio.*: how every mp3 and WAV is written
            mp3_bitrate=settings.audio.mp3_bitrate_kbps * 1000, wav_samples=settings.audio.wav_sample_format
        )
        self.engines = EngineManager(
            engines, settings.engines, settings.models, max_queued=settings.limits.max_queued_requests
        )
        self.libraries = Libraries(
            settings.paths, settings.index
        )  # the metadata index and one store per folder
        self.voices = self.libraries.voice_library
        self.vc_inputs = self.libraries.vc_inputs
        self.emotions = EmotionStore(Path(settings.paths.voices_dir) / EMOTIONS_FOLDER, self.voices)
        self.voice_sources = VoiceSources(settings, self.voices, self.emotions)
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
        self.saver = ResultSaver(self.outputs, metrics)
        # The services: one per use case, each given only the collaborators it uses.
        self.speech = SpeechService(settings, self.engines, self.voice_sources, self.takes, self.saver)
        self.conversion = ConversionService(
            settings, self.engines, self.voice_sources, (self.voices, self.vc_inputs), self.saver
        )
        self.jobs = JobManager(self.speech)
        self.started_at = time.time()

    async def start(self, metrics: Metrics | None = None) -> None:
        """Create the data folders and begin loading (if configured); returns at once."""
        self.metrics = self.saver.metrics = self.metrics or metrics
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
        engine = self.engines.engine(name)
        if not isinstance(engine, PreparesVoice):
            return
        prepare = engine.prepare_voice
        for voice in self.settings.models.warm_voices:
            try:
                path = self.voices.resolve(voice, param="models.warm_voices")
                key = await self.engines.call(name, prepare, path)
            except ChatterboxError as exc:
                logger.warning("could not warm voice %r on %s: %s", voice, name, exc.message)
            else:
                logger.info("voice %r warmed on %s (%s)", voice, name, key)

    # ---- requests (each answered by its service) ----------------------------------------------

    async def synthesize(
        self, request: SpeechRequest, progress: ProgressCallback | None = None, *, wait_for_room: bool = False
    ) -> SpeechResult:
        """Speak text, post-process, save every format, return (``SpeechService.synthesize``)."""
        return await self.speech.synthesize(request, progress, wait_for_room=wait_for_room)

    async def stream(self, request: SpeechRequest, *, save: bool = False) -> SpeechStream:
        """Speak text piece by piece (``SpeechService.stream``)."""
        return await self.speech.stream(request, save=save)

    def precheck(self, request: SpeechRequest) -> None:
        """What can be refused without loading a model (text, engine, language): jobs ask at once."""
        self.speech.precheck(request)

    async def open_openai_stream(self, speech: OpenAISpeech) -> tuple[SpeechStream, VoiceChoice, Delivery]:
        """An OpenAI speech request mapped onto our engines and voices, speaking (core/openai_compat.py)."""
        return await open_stream(self.speech, self.voice_sources, self._remotes(), speech)

    async def openai_request(self, speech: OpenAISpeech) -> tuple[SpeechRequest, VoiceChoice, Delivery]:
        """An OpenAI speech request mapped onto ours, not yet spoken (to save it first, say)."""
        return await speech_request(self.speech, self.voice_sources, self._remotes(), speech)

    def _remotes(self) -> list[str]:
        return [engine_name(remote) for remote, conf in self.settings.remotes.items() if conf.enabled]

    async def convert(
        self, request: ConversionRequest, progress: ProgressCallback | None = None
    ) -> SpeechResult:
        """Re-voice a clip with a voice from voices/, save every format (``ConversionService.convert``)."""
        return await self.conversion.convert(request, progress)

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

    def engine_listing(self) -> EngineListing:
        """Every engine's state and declared abilities, and which one serves: what every listing shows."""
        return engine_listing(self.settings.engines.default, self.engines, self.speech)

    def serving(self) -> tuple[str | None, str | None]:
        """The engine that answers requests naming none, and why it is not the default (or None)."""
        return self.engines.serving()

    def memory(self) -> MemoryReport:
        """The memory budget and the bytes of weights each engine holds now."""
        return self.engines.memory()

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
