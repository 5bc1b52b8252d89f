"""travisvn/chatterbox-tts-api's default voice, voice aliases and cleanup, over our voice library.

Its paths (``/v1/voices/...``, ``/voices/...``), form fields and answers. The marks live in each voice's
record (management/voices/marks.py), so they follow a renamed voice and go with a deleted one:

- ``POST /v1/voices/default`` (form ``voice_name``) marks the voice requests without one speak with,
  instead of ``openai.fallback_voice``; ``DELETE`` takes the mark off (back to the configuration);
- ``/v1/voices/{voice_name}/aliases``: other names a voice answers to, wherever a voice is named;
- ``POST /v1/voices/cleanup``: forgets the records of voices whose audio is gone.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form

from api.compat.travisvn import voice_item
from api.deps import SettingsDep, VoicesDep
from api_models import ErrorResponse
from management.voices.marks import (
    add_alias,
    aliases_of,
    default_voice,
    forget_missing,
    remove_alias,
    set_default,
)

router = APIRouter(tags=["compat: travisvn"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (400, 404, 409)}
Name = Annotated[str, Form(min_length=1, max_length=100)]


@router.get("/v1/voices/default")
@router.get("/voices/default", include_in_schema=False)
@router.get("/default-voice", include_in_schema=False)
def get_default_voice(voices: VoicesDep, settings: SettingsDep) -> dict[str, Any]:
    """The voice requests without one speak with: the library's marked voice, else
    `openai.fallback_voice`, else (null) the engine's own."""
    marked = default_voice(voices)
    if marked is not None:
        return {"default_voice": marked.path, "source": "voice_library", "voice_info": voice_item(marked)}
    configured = settings.openai.fallback_voice
    return {"default_voice": configured, "source": "configuration" if configured else "engine"}


@router.post("/v1/voices/default", responses=_ERRORS)
@router.post("/voices/default", responses=_ERRORS, include_in_schema=False)
@router.post("/default-voice", include_in_schema=False)
def set_default_voice(voices: VoicesDep, voice_name: Name) -> dict[str, Any]:
    """travisvn's default voice: requests without a voice (or with an OpenAI name no alias maps) speak
    with this library voice; a voice not in the library is a 404 naming `voice_name`."""
    entry = set_default(voices, voices.get(voice_name, param="voice_name"))
    assert entry is not None
    return {
        "message": "Default voice updated successfully",
        "default_voice": voice_name,
        "voice_info": voice_item(entry),
    }


@router.delete("/v1/voices/default")
@router.delete("/voices/default", include_in_schema=False)
@router.delete("/default-voice", include_in_schema=False)
def reset_default_voice(voices: VoicesDep, settings: SettingsDep) -> dict[str, Any]:
    """No library voice is the default any more: back to `openai.fallback_voice` (or the engine's own)."""
    set_default(voices, None)
    configured = settings.openai.fallback_voice
    return {
        "message": "Default voice reset to system default",
        "default_voice": configured,
        "source": "configuration" if configured else "engine",
    }


@router.post("/v1/voices/cleanup")
@router.post("/voices/cleanup", include_in_schema=False)
def cleanup_voices(voices: VoicesDep, settings: SettingsDep) -> dict[str, Any]:
    """Forget the records of voices whose audio file is gone (records changed in the last
    `housekeeping.grace_seconds` are kept: an upload may be under way)."""
    removed = forget_missing(voices, grace_seconds=settings.housekeeping.grace_seconds)
    return {"message": "Cleanup completed", "removed_voices": removed, "count": len(removed)}


@router.get("/v1/voices/{voice_name}/aliases", responses=_ERRORS)
@router.get("/voices/{voice_name}/aliases", responses=_ERRORS, include_in_schema=False)
def list_voice_aliases(voice_name: str, voices: VoicesDep) -> dict[str, Any]:
    """A voice's aliases: `{"voice_name", "aliases", "count"}`."""
    aliases = aliases_of(voices.get(voice_name, param="voice_name"))
    return {"voice_name": voice_name, "aliases": aliases, "count": len(aliases)}


@router.post("/v1/voices/{voice_name}/aliases", status_code=201, responses=_ERRORS)
@router.post("/voices/{voice_name}/aliases", status_code=201, responses=_ERRORS, include_in_schema=False)
def add_voice_alias(voice_name: str, voices: VoicesDep, alias: Name) -> dict[str, Any]:
    """Another name for the voice (any route takes it as the voice); a name another voice already
    answers to is a 409 naming `alias`."""
    entry = add_alias(voices, voices.get(voice_name, param="voice_name"), alias)
    return {
        "message": "Alias added successfully",
        "voice_name": voice_name,
        "alias": alias,
        "aliases": aliases_of(entry),
    }


@router.delete("/v1/voices/{voice_name}/aliases/{alias}", responses=_ERRORS)
@router.delete("/voices/{voice_name}/aliases/{alias}", responses=_ERRORS, include_in_schema=False)
def remove_voice_alias(voice_name: str, alias: str, voices: VoicesDep) -> dict[str, Any]:
    """Take an alias off; one the voice does not have is a 404 naming `alias`."""
    entry = remove_alias(voices, voices.get(voice_name, param="voice_name"), alias)
    return {
        "message": "Alias removed successfully",
        "voice_name": voice_name,
        "alias": alias,
        "aliases": aliases_of(entry),
    }
