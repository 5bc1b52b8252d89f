"""Where a request's voice comes from: library files, emotion profiles, URLs or an engine's own names."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from config import Settings
from core.requests import SpeechRequest
from core.voice_blend import parse_blend
from engines.base import SynthesisEngine, VoiceBlend
from exceptions import ChatterboxError, InvalidRequestError, NotFoundError
from management.downloads import download_audio, is_url
from management.emotions import PREFIX as EMOTION_PREFIX
from management.emotions import EmotionProfile, EmotionStore
from management.library_files import AudioFolder
from management.voices import VoiceLibrary
from management.voices.marks import default_voice


class VoiceSources:
    """Resolves voice values for TTS and VC: voices/ files, emotion profiles and downloaded URLs."""

    def __init__(self, settings: Settings, voices: VoiceLibrary, emotions: EmotionStore) -> None:
        self.settings = settings
        self.voices = voices
        self.emotions = emotions

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

    def in_library(self, voice: str) -> bool:
        """Whether a voice value names a file in voices/."""
        try:
            self.voices.resolve(voice, param="voice")
        except (NotFoundError, InvalidRequestError):
            return False
        return True

    def default_voice(self) -> str | None:
        """The library voice marked as the default (travisvn's ``POST /v1/voices/default``), if any."""
        entry = default_voice(self.voices)
        return entry.path if entry is not None else None

    def recorded_language(self, voice: str) -> str | None:
        """The language a library voice was uploaded with (travisvn's ``language``), if recorded."""
        try:
            path = self.voices.resolve(voice, param="voice")
        except ChatterboxError:
            return None
        language = self.voices.record_of(path).get("language") if path.is_file() else None
        return language.lower() if isinstance(language, str) and language.strip() else None

    def blend_of(self, voice: str | None) -> list[tuple[str, float]] | None:
        """The parts of a blend (``a+b``, ``a(2)+b(1)``); None when ``voice`` is not one (a file in
        voices/ may really be named ``a+b.wav``)."""
        if not voice or "+" not in voice or is_url(voice) or self.in_library(voice):
            return None
        return parse_blend(voice, self.in_library)

    def blend_for(self, engine: SynthesisEngine, voice: str, parts: list[tuple[str, float]]) -> VoiceBlend:
        """The library voices of a blend, for an engine that can mix them; else a 400 naming ``voice``."""
        check_blendable(engine, voice)
        return VoiceBlend(tuple((self.voices.resolve(name, param="voice"), weight) for name, weight in parts))

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
        saved = self.voices.default_parameters(path)
        return replace(request, **{k: v for k, v in saved.items() if getattr(request, k) is None})

    @contextlib.asynccontextmanager
    async def for_engine(
        self, engine: SynthesisEngine, voice: str | None, upload: Path | None
    ) -> AsyncIterator[Path | str | VoiceBlend | None]:
        """What the engine takes as ``voice``: a reference file (or a blend of them) for cloning
        engines, else a name."""
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
        elif (parts := self.blend_of(voice)) is not None:
            blend = self.blend_for(engine, voice, parts)
            yield blend
            for path, _ in blend.parts:  # counted once the request has used them
                await asyncio.to_thread(self.voices.record_use, path)
        elif engine.clones_voices:
            async with self.audio_file(self.voices, voice, "voice") as path:
                yield path
        elif engine.has_voice(voice):
            yield voice
        else:
            raise NotFoundError(f"engine {engine.name!r} has no voice {voice!r}", param="voice")

    @contextlib.asynccontextmanager
    async def audio_file(self, library: AudioFolder, name: str, param: str) -> AsyncIterator[Path]:
        """A library file by name, or a URL downloaded for the length of the request."""
        if not is_url(name):
            path = library.resolve(name, param=param)
            yield path
            if library is self.voices:  # counted once the request has used it
                await asyncio.to_thread(self.voices.record_use, path)
            return
        path = await asyncio.to_thread(
            download_audio, name, Path(self.settings.paths.temp_dir), self.settings.downloads, param=param
        )
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)


def check_blendable(engine: SynthesisEngine, voice: str) -> None:
    """A 400 naming ``voice`` when the engine cannot mix voices (only the Chatterbox engines can)."""
    if not (engine.clones_voices and getattr(engine, "blends_voices", False)):
        raise InvalidRequestError(
            f"voice {voice!r} is a blend of voices; engine {engine.name!r} cannot blend voices "
            "(the Chatterbox engines can): send one voice",
            param="voice",
            code="voice_blend_unsupported",
        )
