"""``paths``, ``index`` and ``housekeeping``: where files and the index live, and how long they stay."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from settings.base import Section


class PathSettings(Section):
    voices_dir: Path = Path("voices")
    outputs_dir: Path = Path("outputs")
    vc_inputs_dir: Path = Path("vc_inputs")
    temp_dir: Path = Path("temp")
    index_file: Path | None = None  # None: <outputs_dir>/.index.sqlite3

    @property
    def index_path(self) -> Path:
        """Where the metadata index lives."""
        return self.index_file or self.outputs_dir / ".index.sqlite3"


class IndexSettings(Section):
    """Where the metadata index lives: SQLite at ``paths.index_file`` (one machine), or PostgreSQL."""

    # postgresql://user:password@host:5432/database: one index for several replicas (docs/scaling.md);
    # needs the extra ``postgres`` (psycopg). null: the SQLite file.
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _postgres(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^postgres(ql)?://[^\s]*$", value.strip()):
            raise ValueError("must be a PostgreSQL URL such as postgresql://user:password@host:5432/database")
        return value.strip()

    def public_url(self) -> str | None:
        """The URL with its password hidden."""
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", self.url) if self.url else None


class RetentionSettings(Section):
    """Optional limits on outputs/: the oldest files go first. Unset: kept forever."""

    max_age_days: Annotated[float, Field(gt=0)] | None = None
    max_total_mb: Annotated[float, Field(gt=0)] | None = None


class HousekeepingSettings(Section):
    """Removing empty, unreadable and stale files from the data folders (and the index)."""

    enabled: bool = True  # run every interval_hours
    on_start: bool = True  # run once when the server starts
    interval_hours: Annotated[float, Field(gt=0)] = 4
    temp_max_age_minutes: Annotated[float, Field(ge=0)] = 60  # temp files and .part writes older than this
    grace_seconds: Annotated[float, Field(ge=0)] = 60  # newer files are left alone (may be being written)
    retention: RetentionSettings = RetentionSettings()
