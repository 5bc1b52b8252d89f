"""OpenAI's speech vocabulary in our terms: models to engines, voices to voices, instructions to controls.

Pure functions over the configuration and what the engines and the voice library know; the HTTP
route (api/routes/openai.py) only translates fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from config import OPENAI_VOICES, TTS_ENGINES, OpenAISettings
from core.requests import OutputOptions, SpeechRequest, SpeechStream, copy_controls
from core.speech import SpeechService
from core.voice_blend import blend_text
from core.voice_sources import VoiceSources, check_blendable
from exceptions import InvalidRequestError, NotFoundError
from utils.audio import PostProcessing
from utils.text import TextOptions

# Words in `instructions` and what they do to Chatterbox's controls (first match per group wins).
DELIVERY_RULES: tuple[tuple[tuple[str, ...], dict[str, float]], ...] = (
    (("excited", "energetic", "enthusiastic", "cheerful", "happy", "lively"), {"exaggeration": 0.9, "cfg_weight": 0.3}),
    (("dramatic", "intense", "angry", "furious", "passionate"), {"exaggeration": 1.2, "cfg_weight": 0.3, "temperature": 0.9}),
    (("calm", "soothing", "gentle", "relaxed", "soft", "quiet"), {"exaggeration": 0.3, "cfg_weight": 0.5}),
    (("monotone", "flat", "neutral", "robotic"), {"exaggeration": 0.25, "temperature": 0.6}),
)  # fmt: skip
_ADVERBS = {"happily": "happy", "angrily": "angry", "gently": "gentle", "excitedly": "excited"}
SPEED_RULES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("slow", "slowly", "slower", "unhurried"), 0.85),
    (("fast", "quickly", "faster", "quick", "brisk"), 1.15),
)


@dataclass(frozen=True)
class Delivery:
    """What ``instructions`` asked for: control values, a speed multiplier and the words understood."""

    controls: dict[str, float] = field(default_factory=dict)
    speed: float = 1.0
    understood: tuple[str, ...] = ()


def engine_for(model: str | None, settings: OpenAISettings, remotes: Iterable[str] = ()) -> str | None:
    """The engine a model name means (None: the serving engine); an unknown name is a 404 on ``model``.

    ``remotes``: the configured remote engines' names (``remote:<name>``), usable as models too.
    """
    if model is None:
        return None
    remotes = tuple(remotes)
    if model in TTS_ENGINES or model in remotes:
        return model
    mapped = settings.models.get(model)
    if mapped is None:
        known = ", ".join([*settings.models, *TTS_ENGINES, *remotes])
        raise NotFoundError(
            f"model {model!r} does not exist; use one of: {known}", param="model", code="model_not_found"
        )
    return None if mapped == "default" else mapped


def delivery(instructions: str | None) -> Delivery:
    """Chatterbox controls for the delivery that ``instructions`` describe (documented rule set)."""
    words = set(re.findall(r"[a-z]+", (instructions or "").lower()))
    words |= {_ADVERBS.get(word, word.removesuffix("ly")) for word in words}  # calmly -> calm
    controls: dict[str, float] = {}
    understood: list[str] = []
    for keys, values in DELIVERY_RULES:
        hit = next((k for k in keys if k in words), None)
        if hit and not controls:  # the first kind of delivery named wins
            controls = dict(values)
            understood.append(hit)
    speed = 1.0
    for keys, factor in SPEED_RULES:
        hit = next((k for k in keys if k in words), None)
        if hit:
            speed, understood = factor, [*understood, hit]
            break
    return Delivery(controls, speed, tuple(understood))


@dataclass(frozen=True)
class VoiceChoice:
    """The voice to speak with (None: the engine's own) and how the name was understood."""

    voice: str | None
    source: str  # library, emotion, alias, openai, engine, blend


def choose_voice(
    name: str,
    settings: OpenAISettings,
    *,
    clones: bool,
    in_library: bool,
    engine_voices: Iterable[str],
    is_profile: bool = False,
) -> VoiceChoice:
    """Resolve an OpenAI ``voice``: library voice, emotion profile, alias, OpenAI name, engine voice; else a 400."""
    if clones and in_library:
        return VoiceChoice(name, "library")
    if clones and is_profile:
        return VoiceChoice(name, "emotion")
    if not clones and name in set(engine_voices):  # a name the engine itself knows (a remote's voices)
        return VoiceChoice(name, "engine")
    if name in settings.voices:
        return VoiceChoice(settings.voices[name] if clones else None, "alias")
    if name.lower() in OPENAI_VOICES:
        return VoiceChoice(settings.fallback_voice if clones else None, "openai")
    raise InvalidRequestError(
        f"voice {name!r} is not a voice in voices/, a configured alias (openai.voices) or one of "
        f"OpenAI's: {', '.join(OPENAI_VOICES)}",
        param="voice",
        code="voice_not_found",
    )


@dataclass(frozen=True)
class OpenAISpeech:
    """An OpenAI speech request, field for field (our extension fields included)."""

    model: str | None  # None: the serving engine
    input: str
    voice: str | None  # None: openai.fallback_voice, else the engine's own voice
    instructions: str | None = None
    speed: float = 1.0
    exaggeration: float | None = None
    cfg_weight: float | None = None
    temperature: float | None = None
    seed: int | None = None
    language: str | None = None
    normalize_text: bool = True  # False: none of the text clean-ups (Kokoro's normalization_options)
    formats: tuple[str, ...] = ("wav",)  # what a saved result is written as


async def open_stream(
    speaker: SpeechService, voices: VoiceSources, remotes: Iterable[str], speech: OpenAISpeech
) -> tuple[SpeechStream, VoiceChoice, Delivery]:
    """Check the request, map it onto our engine and voice, and start speaking it.

    ``remotes``: the enabled remote engines' names (``remote:<name>``), usable as models too.
    """
    request, choice, wanted = await speech_request(speaker, voices, remotes, speech)
    return await speaker.stream(request, save=speaker.settings.openai.save_outputs), choice, wanted


async def speech_request(
    speaker: SpeechService, voices: VoiceSources, remotes: Iterable[str], speech: OpenAISpeech
) -> tuple[SpeechRequest, VoiceChoice, Delivery]:
    """Check the request and map it onto our engine, voice and controls."""
    settings = speaker.settings.openai
    if len(speech.input) > settings.max_input_chars:
        raise InvalidRequestError(
            f"'input' is {len(speech.input)} characters; the limit is {settings.max_input_chars} "
            "(openai.max_input_chars)",
            param="input",
            code="string_above_max_length",
        )
    name, engine = await speaker.pick(engine_for(speech.model, settings, remotes))
    settings = _with_library_default(settings, voices, speech.voice)
    choice = _voice_choice(voices, engine, speech.voice, settings)
    wanted = delivery(speech.instructions)
    explicit = {
        key: value for key, value in copy_controls(speech, SpeechRequest).items() if value is not None
    }
    controls = {**wanted.controls, **explicit}  # fields sent explicitly win over instructions
    request = SpeechRequest(
        text=speech.input,
        engine=name,
        voice=choice.voice,
        language=speech.language or _voice_language(voices, engine, choice),
        output=OutputOptions(
            formats=speech.formats, post=PostProcessing(speed_factor=speech.speed * wanted.speed)
        ),
        text_options=_text_options(speech.normalize_text),
        **controls,
    )
    return request, choice, wanted


def _with_library_default(
    settings: OpenAISettings, voices: VoiceSources, voice: str | None
) -> OpenAISettings:
    """The voice marked as the library's default replaces ``fallback_voice``, for the requests that
    may speak with it (no voice, an OpenAI name, a blend of them): looking it up reads the index."""
    if voice is not None and voice.lower() not in OPENAI_VOICES and "+" not in voice:
        return settings
    marked = voices.default_voice()
    return settings if marked is None else settings.model_copy(update={"fallback_voice": marked})


def _voice_language(voices: VoiceSources, engine: Any, choice: VoiceChoice) -> str | None:
    """travisvn: a library voice uploaded with a ``language`` speaks it when the request names none
    (and the engine can; else the engine's default, as before)."""
    if choice.voice is None or choice.source == "blend" or not engine.clones_voices:
        return None
    recorded = voices.recorded_language(choice.voice)
    return recorded if recorded is not None and recorded in engine.languages_for(None) else None


def _text_options(normalize: bool) -> TextOptions:
    if normalize:
        return TextOptions(to_lowercase=False)
    return TextOptions(
        to_lowercase=False, normalize_spacing=False, fix_dot_letters=False, remove_reference_numbers=False
    )


def _voice_choice(
    voices: VoiceSources, engine: Any, voice: str | None, settings: OpenAISettings
) -> VoiceChoice:
    if voice is None:
        return VoiceChoice(settings.fallback_voice if engine.clones_voices else None, "default")
    if (parts := voices.blend_of(voice)) is not None:
        return _blend_choice(voices, engine, voice, parts, settings)
    in_library = voices.in_library(voice)
    engine_voices = [voice] if not engine.clones_voices and engine.has_voice(voice) else []
    return choose_voice(
        voice,
        settings,
        clones=engine.clones_voices,
        in_library=in_library,
        engine_voices=engine_voices,
        is_profile=not in_library and voices.profile_for(voice) is not None,
    )


def _blend_choice(
    voices: VoiceSources, engine: Any, voice: str, parts: list[tuple[str, float]], settings: OpenAISettings
) -> VoiceChoice:
    """Kokoro's ``a(2)+b(1)``: each part resolved as a voice on its own (aliases too) to a library voice."""
    check_blendable(engine, voice)
    chosen = []
    for name, weight in parts:
        part = _voice_choice(voices, engine, name, settings)
        if part.voice is None or part.source not in ("library", "alias", "openai"):
            raise InvalidRequestError(
                f"voice {voice!r}: {name!r} is not a library voice (a blend mixes files in voices/)",
                param="voice",
                code="invalid_voice_blend",
            )
        chosen.append((part.voice, weight))
    return VoiceChoice(blend_text(chosen), "blend")
