"""The speech service: text to speech, whole (``synthesize``) or piece by piece (``stream``).

It checks a request, picks the engine, settles the parameters, cuts the text into chunks, sends each
chunk to the model worker (Whisper-checking takes when the engine varies with the seed), joins and
post-processes the audio and saves it through the ``ResultSaver``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from config import Settings
from core.ahead import ahead
from core.checks import (
    check_formats,
    check_language,
    check_request_language,
    check_streamable,
    check_text,
    ignored_controls,
)
from core.chunk_groups import ChunkGroups, Spoken, groups_for
from core.fallback import fallback_notes
from core.naming import tts_stem
from core.progress import Pace, Progress, ProgressCallback, reporter, ticking
from core.records import CHUNK_CROSSFADE_MS, SpeechPlan, timed_pieces, tts_record
from core.requests import SAMPLING_KEYS, ChunkReport, SpeechRequest, SpeechResult, SpeechStream
from core.saving import MadeAudio, ResultSaver
from core.take_checker import TakeChecker
from core.voice_sources import VoiceSources
from core.windows import ChunkWindows
from engines.base import ListsVoices, StreamsWindows, SynthesisEngine, SynthesisParams, VocodesTogether
from engines.manager import EngineManager
from engines.worker import collecting_notes
from exceptions import ChatterboxError, InvalidRequestError
from utils.audio import Clip, change_speed, concatenate
from utils.audio.joiner import Joiner
from utils.text import chunk_text

logger = logging.getLogger(__name__)


def synthesis_params(
    settings: Settings, request: SpeechRequest, engine: SynthesisEngine | None = None
) -> SynthesisParams:
    """Sampling controls: the request's, else the engine's own defaults (turbo), else ``generation``."""
    own = engine.traits.sampling_defaults if engine is not None else {}
    defaults = {key: own.get(key, getattr(settings.generation, key)) for key in SAMPLING_KEYS}
    chosen = {
        key: getattr(request, key) if getattr(request, key) is not None else defaults[key]
        for key in SAMPLING_KEYS
    }
    seed = request.seed or secrets.randbelow(2**32 - 1) + 1
    watermark = settings.models.watermark if request.watermark is None else request.watermark
    return SynthesisParams(**chosen, seed=seed, watermark=watermark)


@dataclass(frozen=True)
class EngineFacts:
    """What a speech engine can do, as declared by it: for listings and the UI's choices."""

    clones_voices: bool
    languages: tuple[str, ...]
    voices: tuple[str, ...] = ()  # its own voices (Piper's), sorted; none for a cloning engine
    ignored_controls: tuple[str, ...] = ()  # the request controls it has no use for


class SpeechService:
    """Text to speech for every door: the REST routes, the OpenAI route, jobs and the UI."""

    def __init__(
        self,
        settings: Settings,
        engines: EngineManager,
        voice_sources: VoiceSources,
        takes: TakeChecker,
        saver: ResultSaver,
    ) -> None:
        self.settings = settings
        self._engines = engines
        self._voices = voice_sources
        self._takes = takes
        self._saver = saver
        self._pace = Pace()  # moves the progress of a long chunk while it is spoken

    def facts(self, name: str) -> EngineFacts:
        """What the named engine declares it can do (a VC engine: no cloning, no languages)."""
        engine = self._engines.engine(name)
        if engine.kind != "tts":
            return EngineFacts(False, ())
        engine = cast(SynthesisEngine, engine)  # ``kind`` says which protocol it implements
        own = tuple(sorted(engine.voices())) if isinstance(engine, ListsVoices) else ()
        return EngineFacts(engine.clones_voices, tuple(engine.languages), own, engine.traits.ignored_controls)

    def languages(self, name: str | None) -> tuple[str, ...]:
        """The languages an engine speaks, its default first (none for a name not configured)."""
        try:
            return self.facts(name).languages if name else ()
        except ChatterboxError:
            return ()

    async def pick(self, requested: str | None) -> tuple[str, SynthesisEngine]:
        """The named TTS engine, or the default, or the fallback, loaded."""
        return await self._engines.pick_tts(requested)

    async def synthesize(
        self, request: SpeechRequest, progress: ProgressCallback | None = None, *, wait_for_room: bool = False
    ) -> SpeechResult:
        """Speak text with the named (or default) engine, post-process, save every format, return.

        ``progress`` hears of each chunk as it is done (``Progress("speak", done, total)``). A full
        model queue raises ServerBusyError, unless ``wait_for_room`` (long-text jobs wait their turn).
        """
        started = time.perf_counter()
        check_formats(request.output.formats)
        self._saver.outputs.folder(request.output.project)  # refuse a bad project before the model runs
        if request.word_timestamps:
            request = replace(request, timestamps=True)
        if request.timestamps and request.output.post.auto_editor:
            raise InvalidRequestError(
                "timestamps cannot be given for audio whose inner silences auto-editor shortens "
                "(use_auto_editor): turn one of them off",
                param="timestamps",
            )
        request = self._voices.with_defaults(request)
        # someone watching progress (a job, the UI) sees it move sentence by sentence, even with Piper
        plan = await self._plan(request, split=request.timestamps or progress is not None)
        if not wait_for_room:
            self._engines.check_room(plan.name)
        clips: list[Clip] = []
        reports: list[ChunkReport] = []
        warnings: list[str] = []
        async for clip, report in self._speak(plan, request, warnings, progress, wait=wait_for_room):
            if report is not None:  # (not windowed: every clip is a chunk's)
                clips.append(clip)
                reports.append(report)
        generated = time.perf_counter() - started
        joined = concatenate(clips, crossfade_ms=CHUNK_CROSSFADE_MS)
        clip, original, moved = await asyncio.to_thread(request.output.post.run_timed, joined)  # off the loop
        record = tts_record(plan, request, reports, warnings)
        timed = timed_pieces(clips, reports, moved) if request.timestamps and moved else None
        if timed is not None:
            record["timestamps"] = [t.__dict__ for t in timed]
        words = (
            await self._takes.words(clip, timed, request.validation, warnings)
            if timed and request.word_timestamps
            else None
        )
        if words is not None:
            record["words"] = [w.__dict__ for w in words]
        stem = tts_stem(request, plan.params)
        made = MadeAudio(
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
            original,
        )
        # encoding a long text's formats takes a while: off the loop
        result = await asyncio.to_thread(self._saver.save, made)
        return replace(result, timestamps=timed, words=words, fallback=next(iter(plan.notes), None))

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
            self._saver.outputs.folder(request.output.project)  # a bad project is a 400 now, not a lost save
        request = self._voices.with_defaults(request)
        plan = await self._plan(request, split=True)
        self._engines.check_room(plan.name)  # the place itself is taken when generation starts
        speed = request.output.post.speed_factor
        whole: list[np.ndarray] = []
        reports: list[ChunkReport] = []
        warnings: list[str] = []

        async def pieces() -> AsyncIterator[Clip]:
            heard = saved = None  # Joiners: what is streamed, what is saved (each chunk's whole clip)
            rate = streamed = 0  # samples of the current chunk already streamed in windows
            # Windows only at speed 1: a speed change per window would be heard at every seam.
            speak = self._speak(plan, request, warnings, None, windowed=speed == 1.0)
            async for clip, report in speak:
                if heard is None or saved is None:
                    rate = clip.sample_rate
                    hold = int(rate * CHUNK_CROSSFADE_MS / 1000)
                    heard, saved = Joiner(hold=hold), Joiner(hold=hold)
                if report is None:  # a window of the chunk being made: a seam with the last chunk only
                    crossfade = heard.hold if streamed == 0 else 0
                    streamed += clip.samples.size
                    if (ready := heard.add(clip.samples, crossfade=crossfade)).size:
                        yield Clip(ready, rate)
                    continue
                reports.append(report)
                if speed != 1.0:
                    clip = await asyncio.to_thread(change_speed, clip, speed)
                if save:
                    whole.append(saved.add(clip.samples, crossfade=saved.hold))
                if streamed == 0 and (ready := heard.add(clip.samples, crossfade=heard.hold)).size:
                    yield Clip(ready, rate)
                streamed = 0
            if heard is not None and (rest := heard.finish()).size:
                yield Clip(rest, rate)
            if save and saved is not None:
                whole.append(saved.finish())
                audio = Clip(np.concatenate(whole), rate)
                await self._save_streamed(plan, request, audio, reports, warnings, started)

        return SpeechStream(plan.name, plan.params.seed, pieces(), next(iter(plan.notes), None))

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
        await asyncio.to_thread(self._saver.save, made)

    def precheck(self, request: SpeechRequest) -> None:
        """What can be refused without loading a model (text, engine, language): jobs ask at once."""
        check_text(request, self.settings.limits.max_text_length)
        serving, reason = self._engines.serving()
        name = request.engine or serving
        engine = self._engines.engine(name) if name else None  # an unknown engine: 400 naming `engine`
        if engine is not None and engine.kind == "tts":
            speaker = cast(SynthesisEngine, engine)
            fallback_notes(request, speaker.name, speaker, self.settings.engines.default, reason)
            check_request_language(speaker, request)

    async def _plan(self, request: SpeechRequest, *, split: bool = False) -> SpeechPlan:
        """Check the text, pick the engine, settle the parameters and cut the text into chunks.

        ``split`` cuts text even for engines that take any length (Piper): streaming sends the first
        sentence before the rest is spoken, and timestamps need pieces to time.
        """
        text, spoken = check_text(request, self.settings.limits.max_text_length)
        name, engine = await self._engines.pick_tts(request.engine)
        notes = fallback_notes(
            request, name, engine, self.settings.engines.default, self._engines.serving()[1]
        )
        check_request_language(engine, request)
        size = engine.max_chunk_chars or (self.settings.limits.max_chunk_chars if split else None)
        options = request.text_options
        if request.timestamps:  # one span per sentence: short ones are not merged into a neighbour
            options = replace(options, enable_batching=False, smart_batch_short_sentences=False)
        chunks = chunk_text(spoken, size, options) if size else [spoken]
        params = synthesis_params(self.settings, request, engine)
        return SpeechPlan(text, spoken, name, engine, params, chunks, notes)

    async def _speak(
        self,
        plan: SpeechPlan,
        request: SpeechRequest,
        warnings: list[str],
        progress: ProgressCallback | None,
        *,
        wait: bool = False,
        windowed: bool = False,
    ) -> AsyncIterator[tuple[Clip, ChunkReport | None]]:
        """Each chunk's kept take, in order (Whisper-checked when the engine varies with the seed).

        With ``windowed`` (streams) and an engine that streams windows, a chunk's audio also comes
        before it, piece by piece as the engine makes it, with no report (``None``); the pieces add
        up to the chunk's clip, or there are none (the chunk was done before the listener wanted
        windows: only the first chunk, and a later one while the audio sent is less than
        ``models.stream_window_margin_seconds`` ahead of the listener, core/windows.py).
        """
        name, engine, chunks = plan.name, plan.engine, plan.chunks
        report_progress = reporter(progress, logger, f"tts ({name})")
        checker = await self._takes.checker(request.validation, warnings) if engine.varies_with_seed else None
        warnings.extend(plan.notes)
        warnings.extend(ignored_controls(engine, request))
        # One take per chunk only: takes that Whisper may reject are not streamed.
        streams = (
            windowed and checker is None and isinstance(engine, StreamsWindows) and engine.streams_windows
        )
        margin = self.settings.models.stream_window_margin_seconds
        windows = ChunkWindows(len(chunks), margin) if streams else None
        seconds = 0.0
        async with (
            self._engines.admit(name, wait=wait),
            self._voices.for_engine(engine, request.voice, request.voice_file) as voice,
        ):
            params = plan.params = replace(
                plan.params, language=check_language(engine, voice, request.language)
            )

            # This request's model calls, under one owner: the T3 batch shares its places by request.
            call = functools.partial(self._engines.call, name, owner=object())

            def seeded(index: int, take: int) -> SynthesisParams:
                # Seeds derive from the request's seed, chunk and take: a long text is repeatable
                # even when other requests interleave on the model worker.
                return replace(params, seed=(params.seed + index + take * 1_000_003) % 2**32)

            def speak_group(group: range) -> Awaitable[Spoken]:
                speaker = cast(VocodesTogether, engine)
                texts = [chunks[index] for index in group]
                seeds = [seeded(index, 0) for index in group]
                return call(speaker.synthesize_group, texts, voice, seeds)

            groups = ChunkGroups([] if windowed else groups_for(engine, chunks), speak_group)

            def take(index: int) -> Awaitable[tuple[Clip, ChunkReport]]:
                async def generate(take: int) -> Clip:
                    with collecting_notes() as notes:  # what the engine says about it (cut at its budget)
                        if take == 0 and groups.covers(index):
                            clip, said = await groups.chunk(index)
                            notes.extend(said)
                        elif windows is not None:
                            speaker = cast(StreamsWindows, engine)
                            partial = windows.partials[index]
                            clip = await call(
                                speaker.synthesize_windowed,
                                chunks[index],
                                voice,
                                seeded(index, take),
                                partial,
                            )
                        else:
                            clip = await call(engine.synthesize, chunks[index], voice, seeded(index, take))
                    warnings.extend(
                        f"chunk {index + 1}: {n}" for n in notes if f"chunk {index + 1}: {n}" not in warnings
                    )
                    return clip

                return self._takes.take(index, chunks[index], generate, checker, request.validation)

            # An engine that batches (our T3 loop) gets the next few chunks at once; they are heard in order.
            async with ahead(take, len(chunks), engine.traits.chunks_ahead) as results, groups:
                for index in range(len(chunks)):
                    if windows is None:
                        waited = groups.waited(index)
                        clip, report = await self._next_chunk(
                            results(index), plan, index, waited, seconds, progress
                        )
                    else:
                        done: list[tuple[Clip, ChunkReport]] = []
                        async for piece in windows.hear(index, results(index), done):
                            yield piece, None
                        clip, report = done[0]
                    seconds += clip.duration
                    yield clip, report
                    report_progress(Progress("speak", index + 1, len(chunks), round(seconds, 3)))

    async def _next_chunk(
        self,
        work: Awaitable[tuple[Clip, ChunkReport]],
        plan: SpeechPlan,
        index: int,
        waited: range | None,
        seconds: float,
        progress: ProgressCallback | None,
    ) -> tuple[Clip, ChunkReport]:
        """Chunk ``index``; meanwhile ``progress`` hears, twice a second, how far along it is likely to be.

        ``waited``: the chunks it waits for (its group's, ``ChunkGroups.waited``), which the pace
        hears; None: it was made with the chunks before it, and the pace hears nothing."""
        total, began = len(plan.chunks), time.monotonic()
        chars = sum(len(plan.chunks[i]) for i in waited or [index])
        if progress is None:
            made = await work
        else:

            def tick(elapsed: float) -> None:
                within = self._pace.share(plan.name, chars, elapsed)
                progress(Progress("speak", index, total, round(seconds, 3), round(within, 3)))

            if index == 0:
                tick(0.0)  # the number of chunks is known before the first one is done
            made = await ticking(work, tick)
        if waited is not None:
            self._pace.heard(plan.name, chars, time.monotonic() - began)
        return made
