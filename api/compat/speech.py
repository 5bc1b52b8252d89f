"""``POST /v1/audio/speech`` as OpenAI, Kokoro-FastAPI and travisvn clients send it, in our terms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import numpy as np

from api_models import OpenAISpeechRequest
from config import TTS_ENGINES, Settings
from core.openai_compat import OpenAISpeech
from core.requests import copy_controls
from core_engine import CoreEngine, SpeechStream
from engines.remote import engine_name
from exceptions import InvalidRequestError, NotFoundError
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
# "alloy+nova", "alloy(2)+nova(1)": Kokoro's voice blends.
_BLEND_PART = re.compile(r"^\s*([^()+]+?)\s*(?:\(\s*(\d+(?:\.\d+)?)\s*\))?\s*$")


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


def parse_blend(voice: str) -> list[tuple[str, float]] | None:
    """``"a(2)+b(1)"`` -> ``[("a", 2.0), ("b", 1.0)]``; None when ``voice`` is not a blend."""
    if "+" not in voice:
        return None
    parts = []
    for piece in voice.split("+"):
        match = _BLEND_PART.match(piece)
        if match is None:
            raise InvalidRequestError(
                f"voice {voice!r}: {piece!r} is not a voice name with an optional weight like name(2)",
                param="voice",
            )
        parts.append((match.group(1), float(match.group(2) or 1)))
    return parts


def check_blend(core: CoreEngine, voice: str | None) -> None:
    """A blend ("a+b") that is not itself a file name: a clear 400, as no engine here mixes voices yet."""
    if voice is None or parse_blend(voice) is None:
        return
    try:
        core.voices.resolve(voice, param="voice")
        return  # a file really named "a+b.wav"
    except (NotFoundError, InvalidRequestError):
        pass
    raise InvalidRequestError(
        f"voice {voice!r} is a blend of voices; no engine of this server can blend voices yet "
        "(send one voice)",
        param="voice",
        code="voice_blend_unsupported",
    )


def openai_speech(body: OpenAISpeechRequest, core: CoreEngine, model: str | None) -> OpenAISpeech:
    """The request in the terms of ``core.openai_compat``."""
    voice = body.voice if isinstance(body.voice, str) or body.voice is None else body.voice.id
    check_blend(core, voice)
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
