"""Generated audio on disk: named by time, written atomically."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from utils.files import atomic_write_bytes, resolve_inside


def timestamp() -> str:
    """Plus's file-name timestamp: local time with microseconds."""
    return datetime.now().strftime("%Y-%m-%d_%H%M%S_%f")


class OutputStore:
    """The outputs/ folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, stem: str, extension: str, *, folder: str | None = None) -> Path:
        """Write a new file ``<stem>.<extension>`` (in ``folder`` if given) and return its path."""
        directory = resolve_inside(self.root, folder, param="project") if folder else self.root
        path = directory / f"{stem}.{extension}"
        atomic_write_bytes(path, data)
        return path
