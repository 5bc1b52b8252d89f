"""A voice's record: the JSON sidecar beside its audio (Plus's keys), its name rules and search text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from exceptions import InvalidRequestError
from management.library_files import is_audio
from utils.files import safe_relative

# Saved with a voice, they fill what a TTS request leaves unset (range-checked on upload).
GENERATION_DEFAULTS = ("exaggeration", "cfg_weight", "temperature", "repetition_penalty", "min_p", "top_p")
# Marks a voice keeps when its audio is replaced (an upload with overwrite): what the user set on the
# voice, not on the recording (management/voices/marks.py).
KEPT_ON_REPLACE = ("aliases", "default_voice", "language")
_DESCRIPTION = "Voice file: {}"  # a new record's description when none is given


def search_text(record: dict[str, Any]) -> str | None:
    """What a voice search matches besides its file name and folder: name, description, tags."""
    tags = record.get("tags")
    parts = [
        record.get("name"),
        record.get("description"),
        *(tags if isinstance(tags, list) else [tags]),
    ]
    text = " ".join(str(p) for p in parts if isinstance(p, str | int | float) and str(p).strip())
    return text or None


def voice_name(name: str, *, param: str, strip_extension: bool = True) -> str:
    """A voice name as a file stem: one path part, no ``..``, no audio extension (one is dropped)."""
    clean = safe_relative(name.strip(), param=param)
    if "/" in clean or clean.startswith(".") or clean in {".", ""}:
        raise InvalidRequestError(
            f"'{param}' must be a plain name (use folder_path for folders): {name!r}", param=param
        )
    stem, dot, _ = clean.rpartition(".")
    audio = bool(dot and stem) and is_audio(clean)
    return stem if audio and strip_extension else clean


@dataclass(frozen=True)
class VoiceEdit:
    """A metadata update; ``None`` leaves a field as it is."""

    name: str | None = None  # renames the file (extension kept)
    description: str | None = None
    tags: list[str] | None = None
    default_parameters: dict[str, Any] | None = None
    folder: str | None = None  # "" is the root: moves the voice


def new_record(
    path: Path,
    relative: str,
    description: str | None = None,
    tags: Iterable[str] = (),
    default_parameters: dict[str, Any] | None = None,
    quality: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record of a voice just added at ``path`` (``relative``: its path inside voices/)."""
    stamp = now()
    return {
        "name": path.stem,
        "description": description or _DESCRIPTION.format(path.stem),
        "tags": clean_tags(tags),
        "default_parameters": default_parameters or {},
        "uploaded_date": stamp,
        "last_updated": stamp,
        "last_used": None,
        "usage_count": 0,
        "url": relative,
        **({"quality": quality} if quality is not None else {}),
    }


def kept_marks(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` (the record of a voice's replacing audio) with the marks of ``old`` it does not set itself.

    The display name and description count as unset in ``new`` when they are the defaults of a new
    record (the file's stem): a new recording of a named voice keeps its name.
    """
    kept = {key: old[key] for key in KEPT_ON_REPLACE if key in old and new.get(key) is None}
    stem = PurePosixPath(str(new.get("url", ""))).stem
    defaults = {"name": stem, "description": _DESCRIPTION.format(stem)}
    kept |= {key: old[key] for key, default in defaults.items() if new.get(key) == default and old.get(key)}
    return {**new, **kept}


def parse_tags(value: str | None, *, param: str = "tags") -> list[str]:
    """Tags as typed: ``calm, male`` or a JSON list; blanks dropped, order kept, no repeats; a 400 naming ``param``."""
    if not value or not value.strip():
        return []
    if not value.lstrip().startswith("["):
        return clean_tags(value.split(","))
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise InvalidRequestError(f"'{param}' is not a JSON list: {exc}", param=param) from None
    if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
        raise InvalidRequestError(f"'{param}' must be a list of strings", param=param)
    return clean_tags(parsed)


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags stripped, empty ones dropped, each once, in their order."""
    return list(dict.fromkeys(t.strip() for t in tags if isinstance(t, str) and t.strip()))


def now() -> str:
    """The time as a voice record writes it (ISO 8601 with the local offset)."""
    return datetime.now().astimezone().isoformat()
