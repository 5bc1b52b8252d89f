"""The default metadata index: one SQLite file (WAL mode), for a server on one machine."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from management.index import MetadataIndex
from management.index_schema import SCHEMA_VERSION

LOCK_WAIT_SECONDS = 5.0  # how long a connection waits for another's lock before "database is locked"
# How long ``exclusive`` waits for a lock another holds before saying it is taken. Not 0: two
# connections taking it at the same moment can then both be refused (each holds the shared lock the
# other must wait out; in a probe, 13 % of 2,000 races), and neither runs. SQLite lets one of them go
# at once, so the other gets the lock within this wait.
TRY_LOCK_SECONDS = 0.25


def _wal(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode. A new file's switch takes a lock that SQLite does not wait for: when
    several processes open a new index at once (replicas starting), the others retry for a while."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class SQLiteIndex(MetadataIndex):
    """The SQLite file; other processes on the same machine may share it (SQLite's own locking)."""

    SORTS: ClassVar[dict[str, tuple[tuple[str, ...], str]]] = {
        "name": (("name COLLATE NOCASE",), "files_by_name"),
        "date": (("created",), "files_by_date"),
        "size": (("size",), "files_by_size"),
        "duration": (("duration",), "files_by_duration"),
        "generation_type": (("generation_type", "created"), "files_by_type"),
        # voices: times used, from the sidecar (a library of voices is small enough to sort unindexed)
        "usage": (("COALESCE(json_extract(metadata, '$.usage_count'), 0)",), ""),
    }
    SCHEMA_WORDS: ClassVar[dict[str, str]] = {
        "key": "TEXT",
        "int": "INTEGER",
        "real": "REAL",
        "name_key": "name COLLATE NOCASE",
        "table_options": " WITHOUT ROWID",
    }
    TAG_MATCH: ClassVar[str] = (
        "EXISTS (SELECT 1 FROM json_each(metadata, '$.tags') AS t "
        "WHERE t.type = 'text' AND lower(t.value) = lower(?))"
    )
    DEFAULT_MARK: ClassVar[str] = "json_type(metadata, '$.default_voice') = 'true'"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)

    @property
    def where(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=LOCK_WAIT_SECONDS
        )
        try:
            _wal(db)
        except BaseException:
            db.close()
            raise
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
        return db

    @contextmanager
    def _transaction(self, db: sqlite3.Connection) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _lock_schema(self, db: sqlite3.Connection) -> None:
        pass  # BEGIN IMMEDIATE already keeps other writers out

    def _schema_version(self, db: sqlite3.Connection) -> int:
        return int(db.execute("PRAGMA user_version").fetchone()[0])

    def _set_schema_version(self, db: sqlite3.Connection) -> None:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _data_version(self, db: sqlite3.Connection) -> object | None:
        return db.execute("PRAGMA data_version").fetchone()[0]

    def _hint(self, index: str) -> str:
        return f"INDEXED BY {index}"

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """An exclusive transaction on a small lock file next to the index (``<index>.<name>.lock``).

        SQLite's own file locking: every process on this machine sees it (and every connection in
        this one); a process that dies lets go. Nothing is ever written to the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = sqlite3.connect(
            self.path.with_name(f"{self.path.name}.{name}.lock"),
            timeout=TRY_LOCK_SECONDS,
            isolation_level=None,
        )
        try:
            try:
                lock.execute("BEGIN EXCLUSIVE")
            except sqlite3.OperationalError:  # "database is locked": another holds it
                yield False
                return
            try:
                yield True
            finally:
                lock.execute("ROLLBACK")
        finally:
            lock.close()
