"""The metadata index: rows describing the audio files of every library, behind one interface.

The files stay the truth; the index only makes listings fast (a page never touches the disk
beyond the database). Rows are keyed by library (``outputs``, ``vc_inputs``, ``voices``) and the
file's path relative to that library's folder. Deleting the index is harmless: the next start
rebuilds it from the folders.

Two backends share this module's queries, one schema (:data:`SCHEMA`) and one migration rule (a
different schema version: drop the table, the scan refills it):

- :class:`management.index_sqlite.SQLiteIndex`, the default: one file, one machine;
- :class:`management.index_postgres.PostgresIndex` (``index.url: postgresql://...``): one index
  shared by several replicas and machines (docs/scaling.md). psycopg is imported only then.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar

from exceptions import ConfigError, IndexUnavailableError
from management.index_entries import Entry, Filters, Page, entry_of, row_of
from management.index_schema import COLUMNS as _COLUMNS
from management.index_schema import SCHEMA, SCHEMA_VERSION, UPSERT, like

__all__ = ["Entry", "Filters", "MetadataIndex", "Page", "open_index"]

logger = logging.getLogger(__name__)

_NULLABLE_SORTS = ("duration", "generation_type")


class MetadataIndex(ABC):
    """The interface and the shared queries; safe to share between threads (one connection, one lock).

    A backend supplies the connection, transactions, its SQL words and ``exclusive`` (a lock held
    across every process using the same index: housekeeping runs once per cluster).
    """

    # sort key: (columns in order, then path; the index that holds the rows in that order, "": none)
    SORTS: ClassVar[dict[str, tuple[tuple[str, ...], str]]]
    SCHEMA_WORDS: ClassVar[dict[str, str]]
    LIKE: ClassVar[str] = "LIKE"  # case-insensitive for ASCII
    TAG_MATCH: ClassVar[str]  # true when one of the sidecar's tags equals the parameter, any case
    DEFAULT_MARK: ClassVar[str]  # true when the sidecar says ``default_voice: true`` (the JSON boolean)
    LOST: ClassVar[tuple[type[BaseException], ...]] = ()  # errors meaning the server went away

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._db: Any = None
        # Totals of recent listings, valid while the database is unchanged (backends that can tell:
        # ``_data_version``). Paging through a large listing costs one COUNT.
        self._totals: dict[tuple[str, tuple[Any, ...]], int] = {}
        self._totals_version: object = None

    # ---- what a backend supplies --------------------------------------------------------------

    @property
    @abstractmethod
    def where(self) -> str:
        """What an error message calls this index (a file path, or host:port/database)."""

    @abstractmethod
    def _connect(self) -> Any:
        """A new DB-API connection in autocommit mode."""

    @abstractmethod
    def _transaction(self, db: Any) -> AbstractContextManager[None]: ...

    @abstractmethod
    def _schema_version(self, db: Any) -> int: ...

    @abstractmethod
    def _set_schema_version(self, db: Any) -> None: ...

    @abstractmethod
    def exclusive(self, name: str) -> AbstractContextManager[bool]:
        """Try to take the lock ``name`` for every process using this index; yields whether it is ours."""

    @abstractmethod
    def _lock_schema(self, db: Any) -> None:
        """Keep other processes out while the schema is checked (within the transaction)."""

    def _data_version(self, db: Any) -> object | None:
        """Something that changes whenever anyone changes the rows; None: unknown (totals uncached)."""
        return None

    def refresh_statistics(self) -> None:  # noqa: B027 - a hook most backends leave empty
        """After many rows changed at once (a scan): let the query planner see the new sizes."""

    def _changed(self, db: Any) -> None:  # noqa: B027 - a hook most backends leave empty
        """Within a write's transaction: count the change where ``_data_version`` needs it."""

    def _hint(self, index: str) -> str:
        return ""

    def _order(self, column: str, direction: str, *, nullable: bool) -> str:
        return f"{column} {direction}"

    def _sql(self, query: str) -> str:
        """``query`` (written with ``?`` parameters) in the driver's parameter style."""
        return query

    # ---- the connection -------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._lock:
            try:
                if self._db is None:
                    self._db = self._open()
                yield self._db
            except self.LOST as exc:
                self._drop()
                raise self.unavailable(exc) from exc

    def unavailable(self, exc: BaseException) -> IndexUnavailableError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return IndexUnavailableError(f"the metadata index ({self.where}) is unavailable: {reason}")

    def _open(self) -> Any:
        db = self._connect()
        try:
            # One transaction that keeps every other process out (SQLite: BEGIN IMMEDIATE, the write
            # lock; PostgreSQL: an advisory lock) from the version check to the commit: of several
            # replicas opening a new index at once, the first makes the schema and the others, let in
            # after its commit, find the version current (tests/unit/test_index_migration.py).
            with self._transaction(db):
                self._lock_schema(db)
                found = self._schema_version(db)
                if found != SCHEMA_VERSION:
                    # An older layout: the folders are the truth, so start over and let the scan refill it.
                    self._run(db, "DROP TABLE IF EXISTS files")
                    for statement in SCHEMA.format(**self.SCHEMA_WORDS, default_mark=self.DEFAULT_MARK).split(
                        ";"
                    ):
                        if statement.strip():
                            self._run(db, statement)
                    self._set_schema_version(db)
        except BaseException:
            db.close()
            raise
        if found != SCHEMA_VERSION:  # committed
            logger.info(
                "metadata index %s: schema version %d made version %d (the scan fills it)",
                self.where,
                found,
                SCHEMA_VERSION,
            )
        return db

    def _drop(self) -> None:
        db, self._db = self._db, None
        self._totals.clear()
        if db is not None:
            with contextlib.suppress(Exception):  # already broken: closing is a courtesy
                db.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _run(self, db: Any, query: str, args: Iterable[Any] = ()) -> Any:
        return db.execute(self._sql(query), list(args))

    # ---- writes ----------------------------------------------------------------------------

    def upsert(self, library: str, entries: Iterable[Entry]) -> None:
        """Add or replace rows, in one transaction."""
        rows = [row_of(library, e) for e in entries]
        with self._connection() as db, self._transaction(db):
            db.cursor().executemany(self._sql(UPSERT), rows)
            self._changed(db)
            self._totals.clear()

    def remove(self, library: str, paths: Iterable[str]) -> None:
        rows = [(library, p) for p in paths]
        with self._connection() as db, self._transaction(db):
            db.cursor().executemany(self._sql("DELETE FROM files WHERE library = ? AND path = ?"), rows)
            self._changed(db)
            self._totals.clear()

    # ---- reads -----------------------------------------------------------------------------

    def stamps(self, library: str) -> dict[str, tuple[int, int, int]]:
        """Every indexed path with its stamp, for reconciling with the folder."""
        with self._connection() as db:
            rows = self._run(
                db, "SELECT path, size, mtime_ns, sidecar_mtime_ns FROM files WHERE library = ?", [library]
            ).fetchall()
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
        columns, sort_index = self.SORTS[sort]
        nullable = sort in _NULLABLE_SORTS
        order = ", ".join(
            self._order(column, direction, nullable=nullable and n == 0)
            for n, column in enumerate((*columns, "path"))
        )
        with self._connection() as db:
            leaf = bool(filters.folder) and self._leaf(db, library, filters)
            where, args = self._where(library, filters, leaf=leaf)
            total = self._count(db, where, args)
            hint = ""
            if filters.folder and not leaf and sort_index:
                # A folder with subfolders is a range of paths. SQLite sorts the whole range, which
                # is slow for a large one; reading the sort index in order and skipping rows outside
                # the range is faster when the range holds a large share of the library.
                everything = self._count(db, *self._where(library, Filters()))
                if total * total > (offset + limit) * everything:
                    hint = self._hint(sort_index)
            rows = self._run(
                db,
                f"SELECT {_COLUMNS} FROM files {hint} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return Page([entry_of(row) for row in rows], total)

    def _count(self, db: Any, where: str, args: list[Any]) -> int:
        version = self._data_version(db)
        if version is None or version != self._totals_version:  # unknown, or another process wrote
            self._totals.clear()
            self._totals_version = version
        key = (where, tuple(args))
        if key not in self._totals:
            if len(self._totals) > 256:
                self._totals.clear()
            self._totals[key] = self._run(db, f"SELECT COUNT(*) FROM files WHERE {where}", args).fetchone()[0]
        return self._totals[key]

    def _leaf(self, db: Any, library: str, filters: Filters) -> bool:
        """Whether no folder below ``filters.folder`` holds files (then one folder's rows are read in order)."""
        below = self._run(
            db,
            f"SELECT 1 FROM files {self._hint('files_by_folder')} "
            "WHERE library = ? AND folder >= ? AND folder < ? LIMIT 1",
            (library, f"{filters.folder}/", f"{filters.folder}0"),
        )
        return below.fetchone() is None

    def select(self, library: str, filters: Filters) -> list[Entry]:
        """Every match, by path."""
        where, args = self._where(library, filters)
        with self._connection() as db:
            rows = self._run(db, f"SELECT {_COLUMNS} FROM files WHERE {where} ORDER BY path", args).fetchall()
        return [entry_of(row) for row in rows]

    def get(self, library: str, path: str) -> Entry | None:
        with self._connection() as db:
            row = self._run(
                db, f"SELECT {_COLUMNS} FROM files WHERE library = ? AND path = ?", (library, path)
            ).fetchone()
        return entry_of(row) if row else None

    def marked_default(self, library: str) -> list[Entry]:
        """Rows whose sidecar says ``default_voice: true``, by path (read through their partial index)."""
        with self._connection() as db:
            rows = self._run(
                db,
                f"SELECT {_COLUMNS} FROM files {self._hint('files_default_voice')} "
                f"WHERE library = ? AND {self.DEFAULT_MARK} ORDER BY path",
                [library],
            ).fetchall()
        return [entry_of(row) for row in rows]

    def named(self, library: str, name: str) -> list[Entry]:
        """Files with this name in any folder."""
        with self._connection() as db:
            rows = self._run(
                db,
                f"SELECT {_COLUMNS} FROM files WHERE library = ? AND name = ? ORDER BY path",
                (library, name),
            ).fetchall()
        return [entry_of(row) for row in rows]

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
                    rows = self._run(
                        db,
                        f"SELECT {_COLUMNS} FROM files {self._hint('files_by_folder')} "
                        f"WHERE library = ? AND folder = ? AND stem IN ({', '.join('?' * len(chunk))}) "
                        "ORDER BY path",
                        [library, folder, *chunk],
                    ).fetchall()
                    found.extend(entry_of(row) for row in rows)
        return found

    def folder_counts(self, library: str) -> dict[str, int]:
        """Files directly in each folder that holds any (``""`` is the root)."""
        with self._connection() as db:
            rows = self._run(
                db, "SELECT folder, COUNT(*) FROM files WHERE library = ? GROUP BY folder", [library]
            ).fetchall()
        return {folder: count for folder, count in rows}

    def _where(self, library: str, f: Filters, *, leaf: bool = False) -> tuple[str, list[Any]]:
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
            match = f"{self.LIKE} ? ESCAPE '\\'"
            clauses.append(f"(name {match} OR folder {match} OR text {match})")
            args += [like(f.search)] * 3
        if f.names:
            marks = ", ".join("?" * len(f.names))
            clauses.append(f"(name IN ({marks}) OR path IN ({marks}))")
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
            clauses.append(self.TAG_MATCH)
            args.append(f.tag)
        return " AND ".join(clauses), args


def open_index(url: str | None, path: Path) -> MetadataIndex:
    """The configured index: PostgreSQL at ``url`` (``index.url``), else the SQLite file at ``path``."""
    if url:
        try:
            from management.index_postgres import PostgresIndex
        except ImportError as exc:
            raise ConfigError(
                "Invalid configuration: index.url is a PostgreSQL URL, but its driver is not installed "
                f"({exc}); install the extra: uv sync --extra postgres (pip: pip install 'psycopg[binary]')"
            ) from exc
        return PostgresIndex(url)
    from management.index_sqlite import SQLiteIndex

    return SQLiteIndex(path)
