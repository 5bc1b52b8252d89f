"""Generated audio on disk: Plus-style names, every file written atomically, a metadata sidecar."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from management.catalog import Catalog
from utils.files import atomic_write_bytes, project_folder

logger = logging.getLogger(__name__)


def timestamp() -> str:
    """Plus's file-name timestamp: local time with microseconds."""
    return datetime.now().strftime("%Y-%m-%d_%H%M%S_%f")


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
        while any(directory.glob(f"{unique}.*")):
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

    def indexed(self, paths: Iterable[Path]) -> None:
        """Tell the index about finished files (and their sidecar); every way of saving ends here."""
        if self.catalog is not None:
            self.catalog.record(paths)

    def relative(self, path: Path) -> str:
        """A saved file's path relative to outputs/, with forward slashes (its URL under /outputs/)."""
        return path.resolve().relative_to(self.root.resolve()).as_posix()
