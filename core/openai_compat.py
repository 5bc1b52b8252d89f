"""OpenAI's speech vocabulary in our terms: models to engines, voices to voices, instructions to controls.

Pure functions over the configuration and what the engines and the voice library know; the HTTP
route (api/routes/openai.py) only translates fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, get_args

from config import OPENAI_VOICES, VC_ENGINES, EngineName, OpenAISettings
from core.requests import OutputOptions, SpeechRequest, SpeechStream
from engines.remote import engine_name
from exceptions import InvalidRequestError, NotFoundError
from utils.audio import PostProcessing
from utils.text import TextOptions

if TYPE_CHECKING:
    from core_engine import CoreEngine

TTS_ENGINES = tuple(name for name in get_args(EngineName) if name not in VC_ENGINES)
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


def engine_for(model: str, settings: OpenAISettings, remotes: Iterable[str] = ()) -> str | None:
    """The engine a model name means (None: the serving engine); an unknown name is a 404 on ``model``.

    ``remotes``: the configured remote engines' names (``remote:<name>``), usable as models too.
    """
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
    source: str  # library, emotion, alias, openai, engine


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

    model: str
    input: str
    voice: str
    instructions: str | None = None
    speed: float = 1.0
    exaggeration: float | None = None
    cfg_weight: float | None = None
    temperature: float | None = None
    seed: int | None = None
    language: str | None = None


async def open_stream(core: CoreEngine, speech: OpenAISpeech) -> tuple[SpeechStream, VoiceChoice, Delivery]:
    """Check the request, map it onto our engine and voice, and start speaking it."""
    settings = core.settings.openai
    if len(speech.input) > settings.max_input_chars:
        raise InvalidRequestError(
            f"'input' is {len(speech.input)} characters; the limit is {settings.max_input_chars} "
            "(openai.max_input_chars)",
            param="input",
            code="string_above_max_length",
        )
    remotes = [engine_name(remote) for remote, conf in core.settings.remotes.items() if conf.enabled]
    name, engine = await core.engines.pick_tts(engine_for(speech.model, settings, remotes))
    try:
        core.voices.resolve(speech.voice, param="voice")
        in_library = True
    except (NotFoundError, InvalidRequestError):
        in_library = False
    engine_voices = [speech.voice] if not engine.clones_voices and engine.has_voice(speech.voice) else []
    choice = choose_voice(
        speech.voice,
        settings,
        clones=engine.clones_voices,
        in_library=in_library,
        engine_voices=engine_voices,
        is_profile=not in_library and core.profile_for(speech.voice) is not None,
    )
    wanted = delivery(speech.instructions)
    explicit = {
        key: value
        for key, value in (
            ("exaggeration", speech.exaggeration),
            ("cfg_weight", speech.cfg_weight),
            ("temperature", speech.temperature),
        )
        if value is not None
    }
    controls = {**wanted.controls, **explicit}  # fields sent explicitly win over instructions
    request = SpeechRequest(
        text=speech.input,
        engine=name,
        voice=choice.voice,
        seed=speech.seed,
        language=speech.language,
        output=OutputOptions(formats=("wav",), post=PostProcessing(speed_factor=speech.speed * wanted.speed)),
        text_options=TextOptions(to_lowercase=False),
        **controls,
    )
    return await core.stream(request, save=settings.save_outputs), choice, wanted
