"""The metadata index's one schema, for SQLite and PostgreSQL alike, and how values are stored in it."""

from __future__ import annotations

import math
from typing import Any

# 2: the partial index files_default_voice (voices: the rows whose sidecar says ``default_voice: true``,
# so finding the default voice never reads the library). An index of version 1 is refilled by the scan.
SCHEMA_VERSION = 2
COLUMNS = (
    "path, folder, name, stem, format, size, mtime_ns, sidecar_mtime_ns, created, duration, "
    "sample_rate, generation_type, text, metadata"
)
# One schema for both backends; each fills in its words for keys (compared byte by byte, as the
# folder ranges below need), integers, reals, the case-insensitive name order and table options.
SCHEMA = """
CREATE TABLE files (
    library TEXT NOT NULL,
    path {key} NOT NULL,
    folder {key} NOT NULL,
    name {key} NOT NULL,
    stem {key} NOT NULL,
    format TEXT NOT NULL,
    size {int} NOT NULL,
    mtime_ns {int} NOT NULL,
    sidecar_mtime_ns {int} NOT NULL,
    created {real} NOT NULL,
    duration {real},
    sample_rate {int},
    generation_type {key},
    text TEXT,
    metadata TEXT NOT NULL,
    PRIMARY KEY (library, path)
){table_options};
CREATE INDEX files_by_date ON files (library, created, path);
CREATE INDEX files_by_name ON files (library, {name_key}, path);
CREATE INDEX files_by_size ON files (library, size, path);
CREATE INDEX files_by_duration ON files (library, duration, path);
CREATE INDEX files_by_type ON files (library, generation_type, created, path);
CREATE INDEX files_by_folder ON files (library, folder, stem);
CREATE INDEX files_by_folder_date ON files (library, folder, created, path);
CREATE INDEX files_default_voice ON files (library, path) WHERE {default_mark}
"""
UPDATED = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS.replace(" ", "").split(",") if c != "path")
UPSERT = (
    f"INSERT INTO files (library, {COLUMNS}) VALUES ({', '.join('?' * 15)}) "
    f"ON CONFLICT (library, path) DO UPDATE SET {UPDATED}"
)


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def plain(value: Any) -> Any:
    """``value`` as both databases store it: no NUL characters, no NaN or infinities (JSON has none)."""
    if isinstance(
        value, str
    ):  # and no lone surrogates (a sidecar's "\ud800"): PostgreSQL's jsonb refuses them
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
