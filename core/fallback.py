"""Speaking with the fallback engine only when that is what the request asked for.

When the default engine (Chatterbox) cannot run, requests that name no engine go to the fallback
(Piper). A request that needs the default's abilities (a cloned voice, a language or controls the
fallback does not have) is refused with a 503 that names the default engine and why it is down,
instead of an error from the fallback about a voice it never claimed to have.
"""

from __future__ import annotations

from core.requests import SpeechRequest
from engines.base import SynthesisEngine, language_code
from exceptions import EngineUnavailableError

HOW_TO_FIX = (
    "provide its weights (README, 'Chatterbox weights': models.checkpoint_dir, or network for the "
    "first start) and restart or POST /api/v1/models/load"
)


def fallback_notes(
    request: SpeechRequest, name: str, engine: SynthesisEngine, default: str, reason: str | None
) -> list[str]:
    """When the fallback serves for the default: a 503 for what only the default can do, else a note."""
    why = fallback_reason(request, name, default, reason)
    return [] if why is None else [check_fallback(request, engine, default, why)]


def fallback_reason(request: SpeechRequest, served: str, default: str, reason: str | None) -> str | None:
    """Why the default engine is not speaking this request (None: it is, or the request chose)."""
    if request.engine is not None or served == default:
        return None
    return reason.removeprefix(f"{default} unavailable: ") if reason else f"{default} is unavailable"


def check_fallback(request: SpeechRequest, engine: SynthesisEngine, default: str, reason: str) -> str:
    """Refuse (503) what only the default engine could do; else the note that the fallback spoke."""
    what, param = _needs_default(request, engine)
    if what is not None:
        raise EngineUnavailableError(
            f"{what} needs engine {default!r}, which is unavailable ({reason}); {engine.name!r} serves "
            f"in its place and cannot do it. To use {default!r}, {HOW_TO_FIX}; or send "
            f'"engine": {engine.name!r} without {param!r}',
            param=param,
            code="engine_unavailable",
        )
    return f"{engine.name} spoke instead of {default} ({reason})"


def _needs_default(request: SpeechRequest, engine: SynthesisEngine) -> tuple[str | None, str]:
    """What in the request the fallback cannot do, and the field that asked for it."""
    if request.voice_file is not None and not engine.clones_voices:
        return "cloning a voice from 'reference_audio'", "reference_audio"
    if request.voice and not engine.clones_voices and not engine.has_voice(request.voice):
        return f"voice {request.voice!r}", "voice"
    if request.language and not engine.clones_voices:
        speaks = engine.languages_for(request.voice if request.voice else None)
        if speaks and language_code(request.language) not in speaks:
            return f"language {request.language!r}", "language"
    for key in engine.traits.ignored_controls:
        if getattr(request, key, None) is not None:
            return f"{key!r}", key
    return None, "engine"
