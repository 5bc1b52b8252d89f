"""The metadata index: one embedded SQLite file describing the audio files of every library.

The files stay the truth; the index only makes listings fast (a page never touches the disk
beyond SQLite). Rows are keyed by library (``outputs``, ``vc_inputs``, later ``voices``) and the
file's path relative to that library's folder. Deleting the index file is harmless: the next
start rebuilds it from the folders.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SortKey = Literal["name", "date", "size", "duration", "generation_type"]
_SORT_COLUMNS: dict[str, str] = {
    "name": "name COLLATE NOCASE",
    "date": "created",
    "size": "size",
    "duration": "duration",
    "generation_type": "generation_type",
}
_COLUMNS = (
    "path, folder, name, stem, format, size, mtime_ns, sidecar_mtime_ns, created, duration, "
    "sample_rate, generation_type, text, metadata"
)
_SCHEMA = f"""
CREATE TABLE files (
    library TEXT NOT NULL,
    path TEXT NOT NULL,
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    stem TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sidecar_mtime_ns INTEGER NOT NULL,
    created REAL NOT NULL,
    duration REAL,
    sample_rate INTEGER,
    generation_type TEXT,
    text TEXT,
    metadata TEXT NOT NULL,
    PRIMARY KEY (library, path)
) WITHOUT ROWID;
CREATE INDEX files_by_date ON files (library, created, path);
CREATE INDEX files_by_name ON files (library, name COLLATE NOCASE, path);
CREATE INDEX files_by_size ON files (library, size, path);
CREATE INDEX files_by_duration ON files (library, duration, path);
CREATE INDEX files_by_type ON files (library, generation_type, created, path);
CREATE INDEX files_by_folder ON files (library, folder, stem);
PRAGMA user_version = {SCHEMA_VERSION};
"""


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
        return PurePosixPath(self.path).name

    @property
    def folder(self) -> str:
        """The folder inside the library, ``""`` for its root."""
        parent = PurePosixPath(self.path).parent.as_posix()
        return "" if parent == "." else parent

    @property
    def stem(self) -> str:
        return PurePosixPath(self.path).stem

    @property
    def format(self) -> str:
        return PurePosixPath(self.path).suffix.lstrip(".").lower()

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

    @property
    def empty(self) -> bool:
        return not (
            self.folder
            or self.search
            or self.names
            or self.generation_type
            or self.created_from is not None
            or self.created_to is not None
        )


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    total: int  # matches over all pages


class MetadataIndex:
    """The SQLite file; safe to share between threads (one connection behind a lock, WAL mode)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db is None:
                self._db = self._open()
            yield self._db

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            # An older layout: the folders are the truth, so start over and let the scan refill it.
            db.execute("DROP TABLE IF EXISTS files")
            db.executescript(_SCHEMA)
        return db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ---- writes ----------------------------------------------------------------------------

    def upsert(self, library: str, entries: Iterable[Entry]) -> None:
        """Add or replace rows, in one transaction."""
        rows = [
            (
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
                e.generation_type,
                e.text,
                json.dumps(e.metadata),
            )
            for e in entries
        ]
        with self._connection() as db, _transaction(db):
            db.executemany(f"INSERT OR REPLACE INTO files (library, {_COLUMNS}) VALUES ({_marks(15)})", rows)

    def remove(self, library: str, paths: Iterable[str]) -> None:
        with self._connection() as db, _transaction(db):
            db.executemany("DELETE FROM files WHERE library = ? AND path = ?", [(library, p) for p in paths])

    # ---- reads -----------------------------------------------------------------------------

    def stamps(self, library: str) -> dict[str, tuple[int, int, int]]:
        """Every indexed path with its stamp, for reconciling with the folder."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT path, size, mtime_ns, sidecar_mtime_ns FROM files WHERE library = ?", (library,)
            )
            return {path: (size, mtime, sidecar) for path, size, mtime, sidecar in rows}

    def page(
        self,
        library: str,
        filters: Filters,
        *,
        sort: str = "date",
        descending: bool = True,
        offset: int = 0,
        limit: int = 50,
    ) -> Page:
        """One page of matches, sorted (ties broken by path in the same direction) and the total."""
        where, args = _where(library, filters)
        direction = "DESC" if descending else "ASC"
        order = f"{_SORT_COLUMNS[sort]} {direction}, path {direction}"
        with self._connection() as db:
            total = db.execute(f"SELECT COUNT(*) FROM files WHERE {where}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM files WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return Page([_entry(row) for row in rows], total)

    def select(self, library: str, filters: Filters) -> list[Entry]:
        """Every match, by path."""
        where, args = _where(library, filters)
        with self._connection() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM files WHERE {where} ORDER BY path", args).fetchall()
        return [_entry(row) for row in rows]

    def get(self, library: str, path: str) -> Entry | None:
        with self._connection() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM files WHERE library = ? AND path = ?", (library, path)
            ).fetchone()
        return _entry(row) if row else None

    def named(self, library: str, name: str) -> list[Entry]:
        """Files with this name in any folder."""
        with self._connection() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM files WHERE library = ? AND name = ? ORDER BY path", (library, name)
            ).fetchall()
        return [_entry(row) for row in rows]

    def siblings(self, library: str, groups: Iterable[tuple[str, str]]) -> list[Entry]:
        """Files sharing a folder and stem with the given ``(folder, stem)`` pairs (one output's formats)."""
        pairs = list(dict.fromkeys(groups))
        found: list[Entry] = []
        with self._connection() as db:
            for start in range(0, len(pairs), 400):  # SQLite caps the number of parameters
                chunk = pairs[start : start + 400]
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM files WHERE library = ? AND (folder, stem) IN "
                    f"(VALUES {', '.join('(?, ?)' for _ in chunk)}) ORDER BY path",
                    [library, *(v for pair in chunk for v in pair)],
                ).fetchall()
                found.extend(_entry(row) for row in rows)
        return found

    def folder_counts(self, library: str) -> dict[str, int]:
        """Files directly in each folder that holds any (``""`` is the root)."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT folder, COUNT(*) FROM files WHERE library = ? GROUP BY folder", (library,)
            )
            return dict(rows.fetchall())


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(library: str, f: Filters) -> tuple[str, list[Any]]:
    clauses, args = ["library = ?"], [library]
    if f.folder:
        # the folder itself, or anything below it: "a/" <= folder < "a0" ("0" follows "/")
        clauses.append("(folder = ? OR (folder >= ? AND folder < ?))")
        args += [f.folder, f"{f.folder}/", f"{f.folder}0"]
    if f.search:
        clauses.append("(name LIKE ? ESCAPE '\\' OR folder LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\')")
        args += [_like(f.search)] * 3
    if f.names:
        clauses.append(f"(name IN ({_marks(len(f.names))}) OR path IN ({_marks(len(f.names))}))")
        args += [*f.names, *f.names]
    if f.generation_type:
        clauses.append("generation_type = ?")
        args.append(f.generation_type)
    if f.created_from is not None:
        clauses.append("created >= ?")
        args.append(f.created_from)
    if f.created_to is not None:
        clauses.append("created <= ?")
        args.append(f.created_to)
    return " AND ".join(clauses), args


def _entry(row: tuple[Any, ...]) -> Entry:
    path, _folder, _name, _stem, _fmt, size, mtime, sidecar, created, duration, rate, kind, text, meta = row
    return Entry(path, size, mtime, sidecar, created, duration, rate, kind, text, json.loads(meta))
