"""Request checks that refuse with a 400 naming the field, before any audio is made."""

from __future__ import annotations

import re
from pathlib import Path

from core.requests import SpeechRequest
from engines.base import SynthesisEngine, VoiceBlend, language_code
from exceptions import InvalidRequestError
from utils.audio import get_format
from utils.text import prepare_text

# C0 control characters and DEL, but tab, line feed and carriage return: no engine can speak them,
# and a NUL breaks the phonemizers' C strings.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(request: SpeechRequest, max_length: int) -> tuple[str, str]:
    """The text as sent and as it will be spoken; empty or too long is a 400 naming ``text``."""
    text = request.text.strip()
    if not text:
        raise InvalidRequestError("'text' must not be empty", param="text")
    if len(text) > max_length:
        raise InvalidRequestError(
            f"'text' is {len(text)} characters; the limit is {max_length} (limits.max_text_length)",
            param="text",
            code="string_above_max_length",
        )
    if bad := _CONTROL.search(text):
        raise InvalidRequestError(
            f"'text' holds a control character (U+{ord(bad.group()):04X} at {bad.start()}); "
            "send plain text (tabs and line breaks are fine)",
            param="text",
        )
    spoken = prepare_text(text, request.text_options)
    if not spoken:
        raise InvalidRequestError("'text' has nothing left to speak after text handling", param="text")
    return text, spoken


def check_request_language(engine: SynthesisEngine, request: SpeechRequest) -> None:
    """A language the engine (with a voice of its own) cannot speak: a 400 before any audio is made."""
    named = None if engine.clones_voices or not request.voice else request.voice
    if request.language and (named is None or engine.has_voice(named)):
        check_language(engine, named, request.language)


def check_formats(formats: tuple[str, ...]) -> None:
    """Refuse an empty or unknown list of export formats."""
    if not formats:
        raise InvalidRequestError("'export_formats' must name at least one format", param="export_formats")
    for fmt in formats:
        get_format(fmt, param="export_formats")


def check_streamable(request: SpeechRequest) -> None:
    """Refuse what progressive streaming cannot do, naming the field; check formats and project first."""
    check_formats(request.output.formats)
    post = request.output.post
    for wanted, field_name in (
        (post.trim, "trim"),
        (post.normalize is not None, "normalize_audio"),
        (post.auto_editor, "use_auto_editor"),
        (request.timestamps, "timestamps"),
    ):
        if wanted:
            raise InvalidRequestError(
                f"'{field_name}' needs the whole audio and cannot be streamed as it is generated; "
                "leave out 'stream' (the file is still streamed once it is ready) or this option",
                param=field_name,
            )


def check_language(
    engine: SynthesisEngine, voice: Path | str | VoiceBlend | None, requested: str | None
) -> str | None:
    """The language to speak: the requested one if the engine (with this voice) speaks it, else a 400."""
    named = voice if isinstance(voice, str) else None  # a cloned voice does not change the language
    speaks = engine.languages_for(named)
    if requested is None:
        return speaks[0] if speaks else None
    code = language_code(requested)
    if speaks and code not in speaks:
        who = f"engine {engine.name!r}" + (f" with voice {named!r}" if named else "")
        raise InvalidRequestError(
            f"{who} cannot speak language {requested!r}; it speaks: {', '.join(speaks)}", param="language"
        )
    return code


def ignored_controls(engine: SynthesisEngine, request: SpeechRequest) -> list[str]:
    """A warning naming the controls the request set that this engine has no use for (turbo's CFG)."""
    ignored = [key for key in engine.traits.ignored_controls if getattr(request, key) is not None]
    return [f"{engine.name} ignores {', '.join(ignored)}"] if ignored else []
