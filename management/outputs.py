"""Generated audio on disk: Plus-style names, every file written atomically, a metadata sidecar."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from exceptions import ConflictError, IndexUnavailableError
from management.catalog import Catalog
from utils.audio.formats import FORMATS
from utils.files import atomic_write_bytes, project_folder

logger = logging.getLogger(__name__)


def timestamp() -> str:
    """Plus's file-name timestamp: local time with microseconds."""
    return datetime.now().strftime("%Y-%m-%d_%H%M%S_%f")


# What an output's files end with: each audio format's extension, and the JSON record.
OUTPUT_EXTENSIONS = tuple(sorted({fmt.extension for fmt in FORMATS.values()} | {"json"}))


class OutputStore:
    """The outputs/ folder; every save also updates the metadata index (when one is given)."""

    def __init__(self, root: Path, catalog: Catalog | None = None) -> None:
        self.root = root
        self.catalog = catalog

    def folder(self, project: str | None) -> Path:
        """The folder for a project (a relative path inside outputs/, created when missing)."""
        return project_folder(self.root, project)

    def save(
        self, stem: str, files: dict[str, bytes], metadata: dict[str, Any], *, project: str | None = None
    ) -> dict[str, Path]:
        """Write ``<stem>.<ext>`` for each format and ``<stem>.json``; all or nothing.

        The stem gets ``_2``, ``_3``... if another output already took it (two requests in one
        microsecond). The sidecar is written last, so a listing never sees metadata without audio.
        """
        directory = self.folder(project)
        unique, n = stem, 1
        while output_files(directory, unique):
            n += 1
            unique = f"{stem}_{n}"
        paths = {ext: directory / f"{unique}.{ext}" for ext in files}
        try:
            for ext, data in files.items():
                atomic_write_bytes(paths[ext], data)
            record = {**metadata, "files": {ext: path.name for ext, path in paths.items()}}
            atomic_write_bytes(directory / f"{unique}.json", json.dumps(record, indent=2).encode())
        except BaseException:
            for path in paths.values():
                path.unlink(missing_ok=True)
            raise
        self.indexed(paths.values())
        return paths

    def indexed(self, paths: Iterable[Path], removed: Iterable[Path] = ()) -> None:
        """Tell the index about published files (and their sidecar) and removed ones; every save ends here.

        An index that cannot be reached (PostgreSQL gone) does not fail the save: the files are kept,
        logged by name, and recorded once the index answers again."""
        if self.catalog is not None:
            paths, removed = list(paths), list(removed)
            try:
                self.catalog.forget(removed)
                self.catalog.record(paths)
            except IndexUnavailableError as exc:
                self.catalog.defer([*removed, *paths], exc)

    @contextlib.contextmanager
    def pending(
        self,
        stem: str,
        extensions: Sequence[str],
        *,
        project: str | None = None,
        exact: bool = False,
        overwrite: bool = False,
    ) -> Iterator[PendingOutput]:
        """Files to write in place (hidden ``.part`` names in the output folder), published by ``commit``.

        Leaving the block without committing (an error midway) removes every part: a failed job
        leaves nothing behind. ``exact``: the stem is the user's chosen name, so an existing output
        of that name is a conflict (unless ``overwrite``) instead of getting a ``_2`` suffix.
        """
        directory = self.folder(project)
        if exact and not overwrite:
            _refuse_taken(directory, stem)
        pending = PendingOutput(directory, stem, tuple(extensions), exact, overwrite, self.indexed)
        try:
            yield pending
        finally:
            for part in pending.parts.values():
                part.unlink(missing_ok=True)

    def relative(self, path: Path) -> str:
        """A saved file's path relative to outputs/, with forward slashes (its URL under /outputs/)."""
        return path.resolve().relative_to(self.root.resolve()).as_posix()


class PendingOutput:
    """An output being written: its ``parts`` become ``<stem>.<ext>`` + ``<stem>.json`` on ``commit``."""

    def __init__(
        self,
        directory: Path,
        stem: str,
        extensions: tuple[str, ...],
        exact: bool,
        overwrite: bool,
        on_publish: Callable[[Iterable[Path], Iterable[Path]], None] | None = None,
    ) -> None:
        self.directory, self.stem, self._exact, self._overwrite = directory, stem, exact, overwrite
        self._on_publish = on_publish  # told the published and the removed files (the index)
        token = secrets.token_hex(4)
        self.parts = {ext: directory / f".{stem}.{token}.{ext}.part" for ext in extensions}
        self.paths: dict[str, Path] = {}

    def commit(self, metadata: dict[str, Any]) -> dict[str, Path]:
        """Publish the parts under their final names, then the sidecar; returns the final paths."""
        unique, n = self.stem, 1
        if self._exact and not self._overwrite:
            _refuse_taken(self.directory, unique)
        while not self._exact and output_files(self.directory, unique):
            n += 1
            unique = f"{self.stem}_{n}"
        finals = {ext: self.directory / f"{unique}.{ext}" for ext in self.parts}
        sidecar = self.directory / f"{unique}.json"
        replaced = [
            p for p in output_files(self.directory, unique) if p not in finals.values() and p != sidecar
        ]
        try:
            for ext, part in self.parts.items():
                with part.open("rb+") as handle:
                    os.fsync(handle.fileno())
                os.replace(part, finals[ext])
                self.paths[ext] = finals[ext]
            record = {**metadata, "files": {ext: path.name for ext, path in finals.items()}}
            atomic_write_bytes(sidecar, json.dumps(record, indent=2).encode())
        except BaseException:
            for path in self.paths.values():
                path.unlink(missing_ok=True)
            raise
        for path in replaced:  # formats of the overwritten output that this one does not have
            path.unlink(missing_ok=True)
        if self._on_publish is not None:
            self._on_publish(finals.values(), replaced)
        return finals


def output_files(directory: Path, stem: str) -> list[Path]:
    """The files of the output named ``stem``: ``<stem>.<format>`` and its ``<stem>.json`` record.

    Exact names, not a glob: ``take.*`` would also match another output named ``take.v2``, and a
    stem holding ``[`` or ``*`` would be read as a pattern.
    """
    if stem.startswith("."):
        return []
    names = (f"{stem}.{ext}" for ext in OUTPUT_EXTENSIONS)
    return [path for name in names if (path := directory / name).is_file()]


def _refuse_taken(directory: Path, stem: str) -> None:
    taken = sorted(p.name for p in output_files(directory, stem))
    if taken:
        raise ConflictError(
            f"an output named {stem!r} already exists ({', '.join(taken)}); choose another name "
            "or send overwrite=true",
            param="output_filename",
        )
