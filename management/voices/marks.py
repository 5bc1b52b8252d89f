"""Marks on a voice kept in its record (the sidecar), for travisvn/chatterbox-tts-api's clients.

- ``aliases``: other names the voice answers to (wherever a voice is named, as a display name is);
- ``default_voice: true``: the voice OpenAI-style requests without one (or with an OpenAI voice name
  no alias maps) speak with, instead of ``openai.fallback_voice``;
- ``language``: what the voice speaks, as uploaded.

Kept in the record, the marks move with a renamed or moved voice and go with a deleted one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from exceptions import ConflictError, InvalidRequestError, NotFoundError
from management.index import Entry, Filters
from management.library_files import is_audio, sidecar_path
from management.voices.library import VoiceLibrary
from management.voices.records import now
from utils.files import atomic_write_bytes

_NOT_IN_NAMES = '/\\:*?"<>|'  # travisvn refuses these in an alias


def annotate(voices: VoiceLibrary, entry: Entry, **fields: Any) -> Entry:
    """Set (None: remove) keys in a voice's record; the updated entry."""
    path = voices.root / entry.path
    with voices.lock:
        if not path.is_file():
            raise NotFoundError(f"voice {entry.path!r} was removed", param="voice_name")
        record = voices.record_of(path)
        for key, value in fields.items():
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value
        record["last_updated"] = now()
        atomic_write_bytes(sidecar_path(path), json.dumps(record, indent=2).encode())
        voices.catalog.record([path])
        updated = voices.catalog.index.get(voices.catalog.library, entry.path)
    assert updated is not None
    return updated


def aliases_of(entry: Entry) -> list[str]:
    """A voice's aliases, as recorded."""
    found = entry.metadata.get("aliases")
    return [a for a in found if isinstance(a, str) and a.strip()] if isinstance(found, list) else []


def add_alias(voices: VoiceLibrary, entry: Entry, alias: str, *, param: str = "alias") -> Entry:
    """Give a voice another name; a name another voice already answers to is a 409 naming ``param``."""
    clean = alias.strip()
    if not clean or any(char in clean for char in _NOT_IN_NAMES):
        raise InvalidRequestError(
            f"alias {alias!r}: must not be blank or contain any of {_NOT_IN_NAMES}", param=param
        )
    with voices.lock:
        try:
            taken = voices.relative(voices.resolve(clean, param=param))
        except NotFoundError:
            taken = None
        except ConflictError:
            taken = "several voices"
        if taken is not None and taken != entry.path:
            raise ConflictError(f"{clean!r} already names {taken}", param=param, code="alias_taken")
        known = aliases_of(entry)
        if clean.casefold() in {a.casefold() for a in known}:
            return entry
        return annotate(voices, entry, aliases=[*known, clean])


def remove_alias(voices: VoiceLibrary, entry: Entry, alias: str, *, param: str = "alias") -> Entry:
    """Take an alias off a voice; one it does not have is a 404 naming ``param``."""
    known = aliases_of(entry)
    kept = [a for a in known if a.casefold() != alias.strip().casefold()]
    if len(kept) == len(known):
        raise NotFoundError(f"voice {entry.path!r} has no alias {alias!r}", param=param)
    return annotate(voices, entry, aliases=kept or None)


def default_voice(voices: VoiceLibrary) -> Entry | None:
    """The voice marked as the default, if any (of several marked by hand, the first by path).

    Asked on every OpenAI-style request without a voice: one indexed query for the marked rows,
    never a read of the whole library."""
    if not voices.root.is_dir():
        return None
    marked = voices.catalog.marked_default()
    return marked[0] if marked else None


def set_default(voices: VoiceLibrary, entry: Entry | None) -> Entry | None:
    """Mark ``entry`` as the default voice (None: no voice is); the mark is taken off any other."""
    with voices.lock:
        if voices.root.is_dir():
            for other in voices.catalog.marked_default():
                if entry is None or other.path != entry.path:
                    annotate(voices, other, default_voice=None)
        return None if entry is None else annotate(voices, entry, default_voice=True)


def forget_missing(voices: VoiceLibrary, *, grace_seconds: float) -> list[str]:
    """travisvn's cleanup: drop the records (index rows, sidecars) of voices whose audio is gone.

    A sidecar changed within ``grace_seconds`` is kept: its voice may be being uploaded (the record
    is written before the audio). Returns the voices forgotten, by path.
    """
    if not voices.root.is_dir():
        return []
    settled = time.time() - grace_seconds
    with voices.lock:
        gone = {e.path for e in voices.catalog.select(Filters()) if not (voices.root / e.path).is_file()}
        voices.catalog.forget([voices.root / path for path in gone])
        for sidecar in voices.root.rglob("*.json"):
            audio = sidecar.with_suffix("")
            hidden = any(part.startswith(".") for part in sidecar.relative_to(voices.root).parts)
            if hidden or not is_audio(audio.name) or audio.exists() or _changed_after(sidecar, settled):
                continue
            sidecar.unlink(missing_ok=True)
            gone.add(voices.relative(audio))
    return sorted(gone)


def _changed_after(path: Path, moment: float) -> bool:
    try:
        return path.stat().st_mtime > moment
    except OSError:
        return True
