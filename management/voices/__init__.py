"""The voice library (voices/): ``VoiceLibrary`` is the folder's one store; records and archives beside it.

A zip is made and unpacked by ``archive`` over the store (``export_zip(library, entries)``,
``import_zip(library, path, ...)``); the store has no pass-through methods for them.
"""

from management.voices.archive import ImportReport, export_zip, import_zip
from management.voices.library import VoiceLibrary
from management.voices.records import GENERATION_DEFAULTS, VoiceEdit, parse_tags, search_text, voice_name

__all__ = [
    "GENERATION_DEFAULTS",
    "ImportReport",
    "VoiceEdit",
    "VoiceLibrary",
    "export_zip",
    "import_zip",
    "parse_tags",
    "search_text",
    "voice_name",
]
