"""The metadata index: one embedded SQLite file describing the audio files of every library.

The files stay the truth; the index only makes listings fast (a page never touches the disk
beyond SQLite). Rows are keyed by library (``outputs``, ``vc_inputs``, ``voices``) and the
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
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# sort key: (columns in order, then path; the index that holds the rows in that order)
_SORTS: dict[str, tuple[tuple[str, ...], str]] = {
    "name": (("name COLLATE NOCASE",), "files_by_name"),
    "date": (("created",), "files_by_date"),
    "size": (("size",), "files_by_size"),
    "duration": (("duration",), "files_by_duration"),
    "generation_type": (("generation_type", "created"), "files_by_type"),
    # voices: times used, from the sidecar (a library of voices is small enough to sort unindexed)
    "usage": (("COALESCE(json_extract(metadata, '$.usage_count'), 0)",), ""),
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
CREATE INDEX files_by_folder_date ON files (library, folder, created, path);
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


class MetadataIndex:
    """The SQLite file; safe to share between threads (one connection behind a lock, WAL mode)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        # Totals of recent listings, valid while the database is unchanged (by us, or by another
        # process: SQLite's data_version). Paging through a large listing costs one COUNT.
        self._totals: dict[tuple[str, tuple[Any, ...]], int] = {}
        self._totals_version = -1

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
            self._totals.clear()

    def remove(self, library: str, paths: Iterable[str]) -> None:
        with self._connection() as db, _transaction(db):
            db.executemany("DELETE FROM files WHERE library = ? AND path = ?", [(library, p) for p in paths])
            self._totals.clear()

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
        """One page of matches, sorted (ties broken by path, generation type by date) and the total."""
        direction = "DESC" if descending else "ASC"
        columns, sort_index = _SORTS[sort]
        order = ", ".join(f"{column} {direction}" for column in (*columns, "path"))
        with self._connection() as db:
            leaf = bool(filters.folder) and self._leaf(db, library, filters)
            where, args = _where(library, filters, leaf=leaf)
            total = self._count(db, where, args)
            hint = ""
            if filters.folder and not leaf:
                # A folder with subfolders is a range of paths. SQLite sorts the whole range, which
                # is slow for a large one; reading the sort index in order and skipping rows outside
                # the range is faster when the range holds a large share of the library.
                everything = self._count(db, *_where(library, Filters()))
                if sort_index and total * total > (offset + limit) * everything:
                    hint = f"INDEXED BY {sort_index}"
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM files {hint} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return Page([_entry(row) for row in rows], total)

    def _count(self, db: sqlite3.Connection, where: str, args: list[Any]) -> int:
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._totals_version:  # another process changed the database
            self._totals.clear()
            self._totals_version = version
        key = (where, tuple(args))
        if key not in self._totals:
            if len(self._totals) > 256:
                self._totals.clear()
            self._totals[key] = db.execute(f"SELECT COUNT(*) FROM files WHERE {where}", args).fetchone()[0]
        return self._totals[key]

    @staticmethod
    def _leaf(db: sqlite3.Connection, library: str, filters: Filters) -> bool:
        """Whether no folder below ``filters.folder`` holds files (then one folder's rows are read in order)."""
        below = db.execute(
            "SELECT 1 FROM files INDEXED BY files_by_folder WHERE library = ? AND folder >= ? AND folder < ? LIMIT 1",
            (library, f"{filters.folder}/", f"{filters.folder}0"),
        )
        return below.fetchone() is None

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
        stems: dict[str, list[str]] = {}
        for folder, stem in dict.fromkeys(groups):
            stems.setdefault(folder, []).append(stem)
        found: list[Entry] = []
        with self._connection() as db:
            for folder, names in stems.items():  # one indexed lookup per folder
                for start in range(0, len(names), 500):  # SQLite caps the number of parameters
                    chunk = names[start : start + 500]
                    rows = db.execute(
                        f"SELECT {_COLUMNS} FROM files INDEXED BY files_by_folder WHERE library = ? AND folder = ? "
                        f"AND stem IN ({_marks(len(chunk))}) ORDER BY path",
                        [library, folder, *chunk],
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


def _where(library: str, f: Filters, *, leaf: bool = False) -> tuple[str, list[Any]]:
    clauses: list[str] = ["library = ?"]
    args: list[Any] = [library]
    if f.folder and leaf:  # no subfolders: an equality the folder indexes can serve in date order
        clauses.append("folder = ?")
        args.append(f.folder)
    elif f.folder:
        # the folder and everything below it: the paths "a/" <= path < "a0" ("0" follows "/")
        clauses.append("path >= ? AND path < ?")
        args += [f"{f.folder}/", f"{f.folder}0"]
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
    if f.tag:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(metadata, '$.tags') AS t "
            "WHERE t.type = 'text' AND lower(t.value) = lower(?))"
        )
        args.append(f.tag)
    return " AND ".join(clauses), args


def _entry(row: tuple[Any, ...]) -> Entry:
    path, _folder, _name, _stem, _fmt, size, mtime, sidecar, created, duration, rate, kind, text, meta = row
    return Entry(path, size, mtime, sidecar, created, duration, rate, kind, text, json.loads(meta))
