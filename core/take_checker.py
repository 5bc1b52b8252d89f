"""Whisper validation of generated takes: the model to check with, and the take each chunk keeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from config import ValidationSettings
from core.requests import ChunkReport, TimedPiece, ValidationOptions
from exceptions import EngineUnavailableError
from recognition import WhisperPool, similarity
from recognition.takes import choose_take
from recognition.words import TimedWord, align_words, hear_words
from utils.audio import Clip


class TakeChecker:
    """Transcribes takes on one ASR thread (off the event loop) and keeps the one closest to the text."""

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings
        self.whisper = WhisperPool(settings)
        self._asr = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr")

    def stop(self) -> None:
        """Drop queued transcriptions; the running one finishes on its own."""
        self._asr.shutdown(wait=False, cancel_futures=True)

    async def checker(self, options: ValidationOptions, warnings: list[str]) -> Any:
        """The Whisper model to check takes with, or None when checking is bypassed."""
        bypass = self.settings.bypass if options.bypass is None else options.bypass
        if bypass:
            return None
        loop = asyncio.get_running_loop()
        _, model, warning = await loop.run_in_executor(self._asr, self.whisper.model, options.whisper_model)
        if warning:
            warnings.append(warning)
        return model

    async def take(
        self,
        index: int,
        chunk: str,
        generate: Callable[[int], Awaitable[Clip]],
        checker: Any,
        options: ValidationOptions,
    ) -> tuple[Clip, ChunkReport]:
        """Chunk ``index``'s kept take: the first one when unchecked, else Whisper's choice among takes."""
        if checker is None:
            return await generate(0), ChunkReport(index, chunk, 1)
        config = self.settings
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

    async def words(
        self, clip: Clip, pieces: list[TimedPiece], options: ValidationOptions, warnings: list[str]
    ) -> list[TimedWord]:
        """Every word of every piece and when it is heard in ``clip``, each piece aligned on its own."""
        loop = asyncio.get_running_loop()
        try:
            _, model, warning = await loop.run_in_executor(
                self._asr, self.whisper.model, options.whisper_model
            )
        except Exception as exc:  # no Whisper model here: the words cannot be timed, the request says so
            raise EngineUnavailableError(
                f"word timestamps need a Whisper model: {exc} (see validation.whisper_model)"
            ) from exc
        if warning:
            warnings.append(warning)
        rate, timed = clip.sample_rate, []
        for piece in pieces:
            part = Clip(clip.samples[int(piece.start * rate) : int(piece.end * rate)], rate)
            heard = (
                await loop.run_in_executor(self._asr, hear_words, model, part) if len(part.samples) else []
            )
            timed.extend(align_words(piece.text, heard, piece.start, min(piece.end, clip.duration)))
        return timed
