"""The voices/ store: one object for the folder, its index rows, its names and its sidecars.

The files stay the truth: a voice is ``<folder>/<name>.<ext>`` and its metadata (description,
tags, default parameters, usage) lives in ``<name>.<ext>.json`` beside it. The index (``catalog``)
only makes listing, filtering and sorting fast.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from exceptions import ConflictError, NotFoundError
from management.catalog import Catalog
from management.index import Entry, Filters
from management.library_files import read_sidecar, sidecar_of, sidecar_path
from management.voices.records import (
    GENERATION_DEFAULTS,
    VoiceEdit,
    clean_tags,
    kept_marks,
    new_record,
    now,
    voice_name,
)
from utils.audio import decode
from utils.audio.quality import analyze_voice
from utils.files import atomic_write_bytes, resolve_inside

logger = logging.getLogger(__name__)


class VoiceLibrary:
    """Reference voices: resolve a name, add, edit, count uses; rows in ``catalog`` (zips: ``archive``)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.root = catalog.root
        self.lock = threading.RLock()  # sidecar read-modify-write (edits, usage counts, imports)

    def resolve(self, name: str, *, param: str) -> Path:
        """The voice file a request's name means (exact, with an audio extension, in a first-level folder,
        then by display name); a name several voices answer to is a 409 listing them."""
        return self.catalog.resolve(name, param=param, named=self.named)

    def get(self, name: str, *, param: str) -> Entry:
        """A voice by path, bare file name, or display name (one voice only; several: a 409)."""
        try:
            return self.catalog.get(name, param=param)
        except NotFoundError:
            found = self.named(name)
            if len(found) > 1:
                paths = ", ".join(self.relative(path) for path in found)
                raise ConflictError(
                    f"{name!r} is the name of several voices; give its path: {paths}",
                    param=param,
                    code="ambiguous_name",
                ) from None
            if not found:
                raise
            return self.catalog.get(self.relative(found[0]), param=param)

    def named(self, name: str) -> list[Path]:
        """Voices whose display name (the record's ``name``) or one of whose ``aliases`` is ``name``,
        ignoring case."""
        wanted = name.strip().casefold()
        return [
            self.root / entry.path
            for entry in self.catalog.select(Filters())
            if wanted in {str(n).strip().casefold() for n in _names(entry.metadata)}
        ]

    def names(self) -> list[str]:
        """Every voice's relative path, sorted (from the index)."""
        return self.catalog.names()

    # ---- adding ----------------------------------------------------------------------------

    def add(
        self,
        path: Path,
        *,
        description: str | None = None,
        tags: Iterable[str] = (),
        default_parameters: dict[str, Any] | None = None,
        analyze: bool = True,
        described: tuple[dict[str, Any], dict[str, Any] | None] | None = None,
    ) -> tuple[Entry, dict[str, Any] | None]:
        """Record a voice file just placed in the library; returns its entry and quality report.

        ``described``: what :meth:`describe` made before the file was published (record, quality).
        """
        record, quality = described or self.describe(
            path,
            path,
            description=description,
            tags=tags,
            default_parameters=default_parameters,
            analyze=analyze,
        )
        with self.lock:
            entry = self.catalog.add(path, record)
        return entry, quality

    def publish(
        self,
        unpublished: Path,
        target: Path,
        *,
        overwrite: bool,
        param: str,
        description: str | None = None,
        tags: Iterable[str] = (),
        default_parameters: dict[str, Any] | None = None,
        display_name: str | None = None,
    ) -> tuple[Entry, dict[str, Any] | None]:
        """Store an upload as a voice: every upload (API or UI) goes through here.

        ``unpublished`` is the whole, decodable file, hidden in ``target``'s folder. Its record is
        written first, then the audio appears under its name (replacing a voice only with
        ``overwrite``; else a 409 naming ``param``, even when two uploads race), then the index row.
        A replaced voice keeps its aliases, default mark, language, and the display name and description
        it was given unless the upload gives new ones (``kept_marks``).
        """
        conflict = f"{target.name!r} already exists; send overwrite=true to replace it"
        if not overwrite and target.exists():  # before its record is written over
            raise ConflictError(conflict, param=param)
        described = self.describe(
            unpublished,
            target,
            description=description,
            tags=tags,
            default_parameters=default_parameters,
            display_name=display_name,
            replacing=overwrite and target.is_file(),
        )
        if overwrite:
            os.replace(unpublished, target)
        else:
            try:
                os.link(unpublished, target)  # never overwrites
            except FileExistsError:
                raise ConflictError(conflict, param=param) from None
            except OSError:  # a filesystem without hard links
                if target.exists():
                    raise ConflictError(f"{target.name!r} already exists", param=param) from None
                os.replace(unpublished, target)
            unpublished.unlink(missing_ok=True)
        return self.add(target, described=described)

    def describe(
        self,
        audio: Path,
        target: Path,
        *,
        description: str | None = None,
        tags: Iterable[str] = (),
        default_parameters: dict[str, Any] | None = None,
        analyze: bool = True,
        display_name: str | None = None,
        replacing: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Measure ``audio`` (not yet published) and write the record of the voice it becomes at ``target``.

        Written before the audio is moved into place, so a crash in between never leaves a voice
        without its record (an orphan record is removed by housekeeping). ``replacing``: ``target``
        is a voice whose audio this replaces; its marks are kept.
        """
        quality = analyze_voice(decode(audio, param="voice_file")).as_dict() if analyze else None
        record = new_record(target, self.relative(target), description, tags, default_parameters, quality)
        if display_name:  # Plus kept the upload's file name and the given name as metadata
            record["name"] = display_name
        if replacing:
            with self.lock:
                record = kept_marks(self.record_of(target), record)
        atomic_write_bytes(sidecar_path(target), json.dumps(record, indent=2).encode())
        return record, quality

    # ---- editing ---------------------------------------------------------------------------

    def update(self, entry: Entry, edit: VoiceEdit, *, name_param: str = "name") -> Entry:
        """Change a voice's metadata; a new name or folder renames or moves it (409 when taken).

        ``name_param``: the request field the new name came in (errors about it name that field)."""
        with self.lock:
            source = self.root / entry.path
            suffix = PurePosixPath(entry.name).suffix
            name = entry.name if edit.name is None else voice_name(edit.name, param=name_param) + suffix
            folder = entry.folder if edit.folder is None else edit.folder.strip().rstrip("/")
            param = name_param if edit.name is not None else "folder_path"
            base = resolve_inside(self.root, folder, param="folder_path") if folder else self.root.resolve()
            target = resolve_inside(base, name, param=param)
            moving = target != source.resolve()
            if moving and target.exists():
                raise ConflictError(
                    f"{self.relative(target)!r} already exists; choose another name or folder", param=param
                )
            record = self.record_of(source)
            if edit.description is not None:
                record["description"] = edit.description
            if edit.tags is not None:
                record["tags"] = clean_tags(edit.tags)
            if edit.default_parameters is not None:
                record["default_parameters"] = edit.default_parameters
            folder_path = self.relative(base)
            record.update(
                name=target.stem if edit.name is not None else record.get("name") or target.stem,
                filename=target.name,
                folder_path=folder_path or None,
                url=f"{folder_path}/{target.name}" if folder_path else target.name,
                last_updated=now(),
            )
            # the new sidecar first, then the audio: a crash between leaves the voice as it was
            atomic_write_bytes(sidecar_path(target), json.dumps(record, indent=2).encode())
            if moving:
                os.replace(source, target)
                sidecar_path(source).unlink(missing_ok=True)
                self.catalog.forget([source])
            self.catalog.record([target])
            updated = self.catalog.index.get(self.catalog.library, self.relative(target))
        assert updated is not None
        return updated

    # ---- usage -----------------------------------------------------------------------------

    def record_use(self, path: Path) -> None:
        """Count one use of a library voice by TTS or VC; never raises (a count must not fail a request)."""
        try:
            if not Path(path).resolve().is_relative_to(self.root.resolve()):
                return  # an upload or a download, not a library voice
            with self.lock:
                if not path.is_file():  # renamed or deleted meanwhile
                    return
                record = self.record_of(path)
                count = record.get("usage_count")
                record["usage_count"] = (count if isinstance(count, int) else 0) + 1
                record["last_used"] = now()
                atomic_write_bytes(sidecar_path(path), json.dumps(record, indent=2).encode())
                if not path.exists():  # deleted while we wrote: leave no orphan sidecar
                    sidecar_path(path).unlink(missing_ok=True)
                    return
                self.catalog.record([path])
        except Exception:
            logger.warning("could not count a use of voice %s", path, exc_info=True)

    def default_parameters(self, path: Path) -> dict[str, Any]:
        """The generation controls saved with a voice (only those a request takes)."""
        found = sidecar_of(path, lambda p: p.is_file())
        saved = (read_sidecar(found) if found else {}).get("default_parameters") or {}
        return {key: value for key, value in saved.items() if key in GENERATION_DEFAULTS}

    # ---- helpers ---------------------------------------------------------------------------

    def record_of(self, path: Path) -> dict[str, Any]:
        """A voice's record as its sidecar holds it (a new one when it has none)."""
        found = sidecar_of(path, lambda p: p.is_file())
        record = read_sidecar(found) if found else {}
        return record or new_record(path, self.relative(path))

    def relative(self, path: Path) -> str:
        """A path inside voices/ as the index and the sidecars write it ("" for the root)."""
        relative = path.resolve().relative_to(self.root.resolve()).as_posix()
        return "" if relative == "." else relative


def _names(record: dict[str, Any]) -> list[Any]:
    """The names a record gives its voice besides the file's: its display name and its aliases."""
    aliases = record.get("aliases")
    return [record.get("name") or "", *(aliases if isinstance(aliases, list) else [])]
