"""Emotion profiles: a character's voice in one mood, kept as JSON files in ``voices/.emotions/``.

A profile names a character and an emotion, the exaggeration to speak it with, one or more
samples (audio files in voices/) and default generation parameters. The files are the truth:
copy, edit or delete them by hand and the server sees it on the next request.

Wherever a voice is accepted, ``emotion:<id>``, a bare ``<id>`` or ``<character>:<emotion>``
that is not a file in voices/ names a profile: it speaks with the profile's first sample, and
its exaggeration and parameters fill the fields the request left out.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exceptions import ConflictError, InvalidRequestError, NotFoundError
from management.library_files import AudioFolder
from utils.files import atomic_write_bytes

logger = logging.getLogger(__name__)

PREFIX = "emotion:"
FOLDER = ".emotions"  # inside voices/: hidden, so voice listings and housekeeping leave it alone
PARAMETERS = ("cfg_weight", "temperature", "repetition_penalty", "min_p", "top_p", "seed", "language")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class EmotionProfile:
    """One profile, as stored."""

    id: str
    character: str
    emotion: str
    exaggeration: float
    samples: tuple[str, ...]  # paths relative to voices/
    parameters: dict[str, Any] = field(default_factory=dict)  # keys from PARAMETERS
    description: str | None = None
    created: str = ""
    updated: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "samples": list(self.samples)}

    @property
    def defaults(self) -> dict[str, Any]:
        """What the profile fills in a request: its exaggeration and parameters."""
        return {"exaggeration": self.exaggeration, **self.parameters}


def slug(text: str) -> str:
    """An id part from a name: lower case, words joined by ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:31] or "x"


class EmotionStore:
    """Profiles in a folder, one ``<id>.json`` each; samples are checked against voices/."""

    def __init__(self, folder: Path, voices: AudioFolder) -> None:
        self.folder = Path(folder)
        self.voices = voices
        self._lock = threading.Lock()  # create/update/delete: check-then-write as one step

    # ---- reading ---------------------------------------------------------------------------

    def list(self, character: str | None = None) -> list[EmotionProfile]:
        """Every profile (of one character, case-insensitively), by character then emotion."""
        profiles = [p for p in map(self._read, self._files()) if p is not None]
        if character is not None:
            profiles = [p for p in profiles if p.character.casefold() == character.casefold()]
        return sorted(profiles, key=lambda p: (p.character.casefold(), p.emotion.casefold(), p.id))

    def get(self, profile_id: str, *, param: str = "id") -> EmotionProfile:
        """A profile by id; 404 when there is none."""
        path = self._path(profile_id, param=param) if _ID.match(profile_id) else None
        profile = self._read(path) if path is not None and path.is_file() else None
        if profile is None:
            raise NotFoundError(f"no emotion profile {profile_id!r}", param=param)
        return profile

    def find(self, voice: str) -> EmotionProfile | None:
        """The profile a voice value names (``emotion:<id>``, ``<id>``, ``<character>:<emotion>``), if any."""
        value = voice.strip()
        if value.lower().startswith(PREFIX):
            value = value[len(PREFIX) :]
        if _ID.match(value.lower()):
            path = self._path(value.lower(), param="voice")
            if path.is_file():
                return self._read(path)
        character, colon, emotion = value.partition(":")
        if colon:
            for profile in self.list(character.strip()):
                if profile.emotion.casefold() == emotion.strip().casefold():
                    return profile
        return None

    # ---- writing ---------------------------------------------------------------------------

    def create(
        self,
        *,
        character: str,
        emotion: str,
        exaggeration: float,
        samples: builtins.list[str],
        parameters: dict[str, Any] | None = None,
        description: str | None = None,
        profile_id: str | None = None,
    ) -> EmotionProfile:
        """Save a new profile; 409 when its id, or its character and emotion, are taken."""
        profile_id = profile_id or f"{slug(character)}-{slug(emotion)}"
        if not _ID.match(profile_id):
            raise InvalidRequestError(
                f"id {profile_id!r} must be 1-64 lower-case letters, digits, '-' or '_'", param="id"
            )
        now = _now()
        profile = EmotionProfile(
            id=profile_id,
            character=_name(character, "character"),
            emotion=_name(emotion, "emotion"),
            exaggeration=exaggeration,
            samples=self._samples(samples),
            parameters=_parameters(parameters),
            description=description,
            created=now,
            updated=now,
        )
        with self._lock:
            if self._path(profile_id, param="id").exists():
                raise ConflictError(f"emotion profile {profile_id!r} already exists", param="id")
            self._refuse_taken(profile)
            self._write(profile)
        logger.info("emotion profile %s created (%s, %s)", profile.id, profile.character, profile.emotion)
        return profile

    def update(self, profile_id: str, changes: dict[str, Any]) -> EmotionProfile:
        """Change some fields (``parameters`` replaced whole); 404 unknown, 409 a taken name."""
        with self._lock:
            profile = self.get(profile_id)
            values = profile.as_dict()
            for key, value in changes.items():
                if key == "samples":
                    value = self._samples(value)
                elif key == "parameters":
                    value = _parameters(value)
                elif key in ("character", "emotion"):
                    value = _name(value, key)
                values[key] = value
            values.update(samples=tuple(values["samples"]), updated=_now())
            updated = EmotionProfile(**values)
            self._refuse_taken(updated)
            self._write(updated)
        return updated

    def delete(self, profile_id: str) -> EmotionProfile:
        """Remove a profile (its samples stay in voices/); 404 when there is none."""
        with self._lock:
            profile = self.get(profile_id)
            self._path(profile_id, param="id").unlink(missing_ok=True)
        logger.info("emotion profile %s deleted", profile_id)
        return profile

    # ---- helpers ---------------------------------------------------------------------------

    def _samples(self, samples: builtins.list[str] | tuple[str, ...]) -> tuple[str, ...]:
        if not samples:
            raise InvalidRequestError(
                "a profile needs at least one sample (a voice in voices/)", param="samples"
            )
        root = self.voices.root.resolve()
        found = []
        for name in samples:
            path = self.voices.resolve(name, param="samples")
            found.append(path.resolve().relative_to(root).as_posix())
        return tuple(dict.fromkeys(found))

    def _refuse_taken(self, profile: EmotionProfile) -> None:
        for other in self.list(profile.character):
            if other.id != profile.id and other.emotion.casefold() == profile.emotion.casefold():
                raise ConflictError(
                    f"{profile.character!r} already has a {profile.emotion!r} profile ({other.id!r})",
                    param="emotion",
                )

    def _files(self) -> builtins.list[Path]:  # ``list`` is a method here
        return sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []

    def _path(self, profile_id: str, *, param: str) -> Path:
        if not _ID.match(profile_id):
            raise InvalidRequestError(f"{profile_id!r} is not a profile id", param=param)
        return self.folder / f"{profile_id}.json"

    def _read(self, path: Path) -> EmotionProfile | None:
        try:
            data = json.loads(path.read_bytes())
            return EmotionProfile(
                id=path.stem,
                character=str(data["character"]),
                emotion=str(data["emotion"]),
                exaggeration=float(data["exaggeration"]),
                samples=tuple(str(s) for s in data["samples"]),
                parameters=dict(data.get("parameters") or {}),
                description=data.get("description"),
                created=str(data.get("created", "")),
                updated=str(data.get("updated", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("ignoring unreadable emotion profile %s: %s", path, exc)
            return None

    def _write(self, profile: EmotionProfile) -> None:
        atomic_write_bytes(
            self._path(profile.id, param="id"), json.dumps(profile.as_dict(), indent=2).encode()
        )


def _name(value: str, param: str) -> str:
    value = value.strip()
    if not value or ":" in value or len(value) > 64:
        raise InvalidRequestError(f"'{param}' must be 1-64 characters without ':'", param=param)
    return value


def _parameters(parameters: dict[str, Any] | None) -> dict[str, Any]:
    parameters = {k: v for k, v in (parameters or {}).items() if v is not None}
    unknown = sorted(set(parameters) - set(PARAMETERS))
    if unknown:
        raise InvalidRequestError(
            f"unknown parameters {unknown}; a profile sets: {', '.join(PARAMETERS)}", param="parameters"
        )
    return parameters


def _now() -> str:
    return datetime.now(UTC).isoformat()
