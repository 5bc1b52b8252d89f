"""The voice library (voices/): ``VoiceLibrary`` is the folder's one store; records and archives beside it."""

from management.voices.archive import ImportReport
from management.voices.library import VoiceLibrary
from management.voices.records import GENERATION_DEFAULTS, VoiceEdit, parse_tags, search_text, voice_name

__all__ = [
    "GENERATION_DEFAULTS",
    "ImportReport",
    "VoiceEdit",
    "VoiceLibrary",
    "parse_tags",
    "search_text",
    "voice_name",
]
