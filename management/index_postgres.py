"""The metadata index on a PostgreSQL server (``index.url``): one index for several replicas and machines.

Imported only when ``index.url`` names PostgreSQL (psycopg 3 is the optional extra ``postgres``).
A server that goes away turns index calls into :class:`IndexUnavailableError` (a 503 naming the
reason); the next call connects again.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from management.index import MetadataIndex
from management.index_schema import SCHEMA_VERSION

CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_MS = 60_000  # a server that hangs answers with an error, not never
_SIDECAR = "metadata::jsonb"


class PostgresIndex(MetadataIndex):
    """The ``files`` table (and ``index_schema``, its version) in the database ``url`` names."""

    SORTS: ClassVar[dict[str, tuple[tuple[str, ...], str]]] = {
        "name": (("lower(name)",), ""),
        "date": (("created",), ""),
        "size": (("size",), ""),
        "duration": (("duration",), ""),
        "generation_type": (("generation_type", "created"), ""),
        "usage": (
            (
                f"COALESCE(CASE WHEN jsonb_typeof({_SIDECAR} -> 'usage_count') = 'number' "
                f"THEN ({_SIDECAR} ->> 'usage_count')::float8 END, 0)",
            ),
            "",
        ),
    }
    # Keys compare byte by byte (collation "C"), as in SQLite: the folder ranges depend on it.
    SCHEMA_WORDS: ClassVar[dict[str, str]] = {
        "key": 'TEXT COLLATE "C"',
        "int": "BIGINT",
        "real": "DOUBLE PRECISION",
        "name_key": "lower(name)",
        "table_options": "",
    }
    LIKE: ClassVar[str] = "ILIKE"
    TAG_MATCH: ClassVar[str] = (
        "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof(metadata::jsonb -> 'tags') "
        "WHEN 'array' THEN metadata::jsonb -> 'tags' "
        "WHEN 'string' THEN jsonb_build_array(metadata::jsonb -> 'tags') ELSE '[]'::jsonb END) AS t(value) "
        "WHERE jsonb_typeof(t.value) = 'string' AND lower(t.value #>> '{}') = lower(?))"
    )
    DEFAULT_MARK: ClassVar[str] = "(metadata::jsonb -> 'default_voice') = 'true'::jsonb"
    LOST: ClassVar[tuple[type[BaseException], ...]] = (psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        parts = conninfo_to_dict(url)  # checks the URL's form now, not at the first request
        self._location = f"PostgreSQL {parts.get('host') or 'localhost'}:{parts.get('port') or 5432}/{parts.get('dbname', '')}"

    @property
    def where(self) -> str:
        return self._location  # never the password

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            db = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        except psycopg.OperationalError as exc:
            raise self.unavailable(exc) from exc
        db.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        return db

    @contextmanager
    def _transaction(self, db: psycopg.Connection[Any]) -> Iterator[None]:
        with db.transaction():
            yield

    def _lock_schema(self, db: psycopg.Connection[Any]) -> None:
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key("schema"),))

    # index_schema: the schema's version (SQLite: PRAGMA user_version) and a count of changes to the
    # rows by any replica (SQLite: PRAGMA data_version), which keeps the listing totals cached.
    def _schema_version(self, db: psycopg.Connection[Any]) -> int:
        db.execute(
            "CREATE TABLE IF NOT EXISTS index_schema (version INTEGER NOT NULL, changes BIGINT NOT NULL DEFAULT 0)"
        )
        row = db.execute("SELECT max(version) FROM index_schema").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _set_schema_version(self, db: psycopg.Connection[Any]) -> None:
        db.execute("DELETE FROM index_schema")
        db.execute("INSERT INTO index_schema (version, changes) VALUES (%s, 0)", (SCHEMA_VERSION,))

    def _changed(self, db: psycopg.Connection[Any]) -> None:
        db.execute("UPDATE index_schema SET changes = changes + 1")

    def _data_version(self, db: psycopg.Connection[Any]) -> object | None:
        row = db.execute("SELECT changes FROM index_schema").fetchone()
        return row[0] if row else None

    def refresh_statistics(self) -> None:
        # Autovacuum would in a minute or so; until then a freshly filled table is planned as empty.
        with self._connection() as db:
            db.execute("ANALYZE files")

    def _order(self, column: str, direction: str, *, nullable: bool) -> str:
        # SQLite puts NULL first in ascending order; PostgreSQL last. Listings agree on both.
        if not nullable:
            return f"{column} {direction}"
        return f"{column} {direction} NULLS {'FIRST' if direction == 'ASC' else 'LAST'}"

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s")

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """A session advisory lock on a connection of its own: PostgreSQL lets go when it closes,
        or when this process dies (its connection with it)."""
        try:
            lock = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        except psycopg.OperationalError as exc:
            raise self.unavailable(exc) from exc
        key = _lock_key(name)
        try:
            try:
                row = lock.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            except self.LOST as exc:
                raise self.unavailable(exc) from exc
            ours = bool(row and row[0])
            try:
                yield ours
            finally:
                if ours:  # now, not when the server notices the closed connection
                    with contextlib.suppress(*self.LOST):
                        lock.execute("SELECT pg_advisory_unlock(%s)", (key,))
        finally:
            lock.close()


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name`` (the same in every process)."""
    digest = hashlib.sha256(f"chatterbox-index:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
