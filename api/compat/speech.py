"""``POST /v1/audio/speech`` as OpenAI, Kokoro-FastAPI and travisvn clients send it, in our terms."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from api_models import OpenAISpeechRequest
from config import TTS_ENGINES, Settings
from core.openai_compat import OpenAISpeech
from core.requests import copy_controls
from core_engine import CoreEngine, SpeechStream
from engines.remote import engine_name
from exceptions import InvalidRequestError
from utils.audio import Clip

# Kokoro's one-letter language codes (its lang_code field) -> ours.
KOKORO_LANG_CODES = {
    "a": "en",
    "b": "en",
    "e": "es",
    "f": "fr",
    "h": "hi",
    "i": "it",
    "j": "ja",
    "p": "pt",
    "z": "zh",
}


def known_models(settings: Settings) -> set[str]:
    """Every ``model`` value that names something here: OpenAI names, engines, remotes."""
    remotes = {engine_name(name) for name, remote in settings.remotes.items() if remote.enabled}
    return {*settings.openai.models, *TTS_ENGINES, *remotes}


def ignored_fields(body: OpenAISpeechRequest, settings: Settings) -> list[str]:
    """The body's fields nobody here reads; with ``compat.strict_openai`` the first is a 400."""
    extras = sorted(body.model_extra or {})
    if extras and settings.compat.strict_openai:
        raise InvalidRequestError(
            f"unknown field {extras[0]!r} (compat.strict_openai is on; unknown fields are refused)",
            param=extras[0],
            code="unknown_parameter",
        )
    return extras


def model_of(body: OpenAISpeechRequest, settings: Settings) -> tuple[str | None, str | None]:
    """The model to use (None: the serving engine) and the name that was ignored, if any."""
    if body.model is None or body.model in known_models(settings) or settings.compat.strict_openai:
        return body.model, None
    return None, body.model


def language_of(body: OpenAISpeechRequest) -> str | None:
    """``language``, else Kokoro's ``lang_code`` (its one-letter codes mapped to ours)."""
    if body.language is not None:
        return body.language
    if body.lang_code is None:
        return None
    code = body.lang_code.strip().lower()
    return KOKORO_LANG_CODES.get(code, code)


def openai_speech(body: OpenAISpeechRequest, core: CoreEngine, model: str | None) -> OpenAISpeech:
    """The request in the terms of ``core.openai_compat``."""
    voice = body.voice if isinstance(body.voice, str) or body.voice is None else body.voice.id
    normalize = (body.normalization_options or {}).get("normalize", True) is not False
    return OpenAISpeech(
        model=model,
        input=body.input,
        voice=voice,
        instructions=body.instructions,
        speed=body.speed,
        **copy_controls(body, OpenAISpeech),
        language=language_of(body),
        normalize_text=normalize,
        formats=(body.download_format or body.response_format,),
    )


def louder(clip: Clip, factor: float) -> Clip:
    """The clip with its samples multiplied by ``factor``, clipped at full scale."""
    if factor == 1.0:
        return clip
    return Clip(np.clip(clip.samples * factor, -1.0, 1.0), clip.sample_rate)


def with_volume(stream: SpeechStream, factor: float) -> SpeechStream:
    """The same stream, each piece made ``factor`` times louder."""
    if factor == 1.0:
        return stream

    async def pieces() -> AsyncIterator[Clip]:
        async for clip in stream.pieces:
            yield louder(clip, factor)

    return SpeechStream(stream.engine, stream.seed, pieces())


async def whole_clip(stream: SpeechStream) -> Clip:
    """Every piece of a stream joined (for answers that need the whole audio first)."""
    pieces = [clip async for clip in stream.pieces]
    if not pieces:
        raise InvalidRequestError("the text gave no audio", param="input")
    return Clip(np.concatenate([clip.samples for clip in pieces]), pieces[0].sample_rate)
