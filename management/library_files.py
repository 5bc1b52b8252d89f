"""The files of a library folder (voices/, vc_inputs/, outputs/): which are audio, how a user's name
finds one, and the JSON sidecars beside them. Every store uses these; nothing else lists suffixes."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from exceptions import ConflictError, InvalidRequestError, NotFoundError
from utils.audio import probe
from utils.files import resolve_inside

logger = logging.getLogger(__name__)

# Every audio file a library holds. A name given without its extension is tried with these, in order.
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".aac", ".webm", ".pcm")


class AudioFolder(Protocol):
    """A library folder whose files a request can name (voices/, vc_inputs/)."""

    @property
    def root(self) -> Path: ...

    def resolve(self, name: str, *, param: str) -> Path:
        """The file a user-given name means; 404 naming ``param`` when there is none."""


def is_audio(name: str | Path) -> bool:
    """Whether a file name has one of the library's audio suffixes."""
    return PurePosixPath(str(name)).suffix.lower() in AUDIO_SUFFIXES


def resolve_audio(
    root: Path, name: str, *, label: str, param: str, named: Callable[[str], list[Path]] | None = None
) -> Path:
    """Exact path, then with an audio extension, then the same in first-level subfolders (as Plus did),
    then by display name (``named``). A bare name that several folders or voices answer to is a 409
    listing them."""
    exact = resolve_inside(root, name, param=param)
    for path in (exact, *(exact.with_name(exact.name + ext) for ext in AUDIO_SUFFIXES)):
        if path.is_file():
            return path
    found: list[Path] = []
    if root.is_dir() and len(Path(name).parts) == 1:
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            candidates = (sub / name, *(sub / (name + ext) for ext in AUDIO_SUFFIXES))
            found += [hit] if (hit := next((c for c in candidates if c.is_file()), None)) else []
    if not found and named is not None:
        found = named(name)
    if len(found) > 1:
        paths = ", ".join(path.relative_to(root).as_posix() for path in found)
        raise ConflictError(
            f"{label} {name!r} matches several files; give its path: {paths}",
            param=param,
            code="ambiguous_name",
        )
    if found:
        return found[0]
    raise NotFoundError(f"{label} {name!r} not found in {root.name}/", param=param)  # never the full path


def header_info(path: Path, *, sample_rate: int | None = None) -> tuple[float | None, int | None]:
    """Duration and rate from the file's headers (never a full decode); ``None`` for what they do not say.

    Raw ``.pcm`` has no header: its duration follows from the size when ``sample_rate`` is known.
    """
    if path.suffix.lower() == ".pcm":
        return (path.stat().st_size / (2 * sample_rate) if sample_rate else None), sample_rate
    try:
        info = probe(path)
    except InvalidRequestError as exc:  # not audio after all: listed without a duration
        logger.debug("cannot read the headers of %s: %s", path, exc.message)
        return None, sample_rate
    return info.duration, info.sample_rate or sample_rate


def sidecar_path(audio: Path) -> Path:
    """Where one file's own sidecar goes: ``<name>.<ext>.json``."""
    return audio.with_name(f"{audio.name}.json")


def sidecar_of(path: Path, exists: Callable[[Path], bool]) -> Path | None:
    """A file's sidecar: its own ``<name>.<ext>.json``, else the ``<stem>.json`` its formats share."""
    for candidate in (sidecar_path(path), path.with_name(f"{path.stem}.json")):
        if exists(candidate):
            return candidate
    return None


def read_sidecar(path: Path) -> dict[str, Any]:
    """A sidecar's record; an unreadable one is logged and read as empty."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable sidecar %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def walk_files(
    root: Path, *, hidden: bool = False, audio: bool = False
) -> Iterator[tuple[str, os.DirEntry[str], os.stat_result, Mapping[str, os.DirEntry[str]]]]:
    """Every plain file below ``root``: its relative path (forward slashes), entry, stat and its folder's
    entries by name. Symlinks and hidden folders are never followed; hidden files come only with
    ``hidden``; ``audio`` keeps the library's audio files alone (the folder's entries still hold all)."""
    if not root.is_dir():
        return
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as it:
                items = [e for e in it if not e.is_symlink() and (hidden or not e.name.startswith("."))]
        except OSError as exc:
            logger.warning("cannot read %s: %s", directory, exc)
            continue
        names = {e.name: e for e in items}
        for item in items:
            try:
                if item.is_dir():
                    if not item.name.startswith("."):
                        stack.append((item.path, f"{prefix}{item.name}/"))
                    continue
                if (
                    audio and os.path.splitext(item.name)[1].lower() not in AUDIO_SUFFIXES
                ) or not item.is_file():
                    continue
                stat = item.stat()
            except OSError:  # removed while we walked
                continue
            yield prefix + item.name, item, stat, names


def walk_audio(root: Path) -> Iterator[tuple[str, Path, os.stat_result, Path | None, int]]:
    """Every listable audio file: its relative path, stat, sidecar and the sidecar's mtime (0: none)."""
    for rel, item, stat, names in walk_files(root, audio=True):
        stem = os.path.splitext(item.name)[0]
        sidecar = next((n for n in (f"{item.name}.json", f"{stem}.json") if n in names), None)
        try:  # an entry's stat is cached: a sidecar shared by several formats is read once
            sidecar_ns = names[sidecar].stat().st_mtime_ns if sidecar is not None else 0
        except OSError:  # removed while we walked
            continue
        path = Path(item.path)
        yield rel, path, stat, path.with_name(sidecar) if sidecar else None, sidecar_ns


def sidecar_number(value: Any) -> float | None:
    """A sidecar's non-negative number (not a bool), else ``None``."""
    return (
        float(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        else None
    )


def sidecar_time(value: Any) -> float | None:
    """A sidecar's ISO time as epoch seconds, else ``None``."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
