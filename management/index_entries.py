"""What the metadata index holds and is asked: one file's row (:class:`Entry`), the filters of a
listing (:class:`Filters`), a page of results, and their conversion to and from table rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from management.index_schema import plain


@dataclass(frozen=True)
class Entry:
    """One indexed audio file."""

    path: str  # relative to the library folder, forward slashes
    size: int
    mtime_ns: int
    sidecar_mtime_ns: int  # 0: no sidecar
    created: float  # epoch seconds
    duration: float | None = None
    sample_rate: int | None = None
    generation_type: str | None = None
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def folder(self) -> str:
        """The folder inside the library, ``""`` for its root."""
        return self.path.rpartition("/")[0]

    @property
    def stem(self) -> str:
        stem, dot, _ = self.name.rpartition(".")
        return stem if dot and stem else self.name

    @property
    def format(self) -> str:
        stem, dot, suffix = self.name.rpartition(".")
        return suffix.lower() if dot and stem else ""

    @property
    def stamp(self) -> tuple[int, int, int]:
        """What tells a changed file from an unchanged one without reading it."""
        return (self.size, self.mtime_ns, self.sidecar_mtime_ns)


@dataclass(frozen=True)
class Filters:
    """Which files a listing or a bulk delete is about; empty fields match everything."""

    folder: str | None = None  # the folder and everything below it
    search: str | None = None  # case-insensitive, in the name, folder or text
    names: tuple[str, ...] = ()  # file names or relative paths
    generation_type: str | None = None
    created_from: float | None = None  # epoch seconds, inclusive
    created_to: float | None = None
    tag: str | None = None  # one of the sidecar's ``tags`` (voices), case-insensitive

    @property
    def empty(self) -> bool:
        return not (
            self.folder
            or self.search
            or self.names
            or self.generation_type
            or self.created_from is not None
            or self.created_to is not None
            or self.tag
        )


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    total: int  # matches over all pages


def row_of(library: str, e: Entry) -> tuple[Any, ...]:
    """The columns of ``management.index_schema.COLUMNS`` for one entry of ``library``."""
    return (
        library,
        e.path,
        e.folder,
        e.name,
        e.stem,
        e.format,
        e.size,
        e.mtime_ns,
        e.sidecar_mtime_ns,
        e.created,
        e.duration,
        e.sample_rate,
        plain(e.generation_type),
        plain(e.text),
        json.dumps(plain(e.metadata)),
    )


def entry_of(row: tuple[Any, ...]) -> Entry:
    """An entry from a selected row (every column but the library)."""
    path, _folder, _name, _stem, _fmt, size, mtime, sidecar, created, duration, rate, kind, text, meta = row
    return Entry(path, size, mtime, sidecar, created, duration, rate, kind, text, json.loads(meta))
