"""Response models of the housekeeping endpoints (``/api/v1/cleanup``, ``/api/v1/resources``), Plus's shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.engines import EngineMemory


class CleanupAction(BaseModel):
    """One file removed (or, in a dry run, that would be)."""

    library: Literal["outputs", "voices", "vc_inputs", "temp"]
    path: str = Field(description="Relative to the library's folder.")
    reason: Literal["empty", "unreadable", "orphan_sidecar", "stale_temp", "retention_age", "retention_size"]
    bytes: int


class CleanupResponse(BaseModel):
    """One housekeeping run (Plus's fields, plus ``dry_run``, ``trigger`` and ``errors``)."""

    timestamp: str = Field(description="When the run ended (ISO 8601, UTC).")
    start_time: str
    end_time: str
    duration_seconds: float
    trigger: Literal["start", "schedule", "request"]
    forced: bool = Field(description="Run on request (POST /api/v1/cleanup) rather than by the schedule.")
    dry_run: bool
    stopped: bool = Field(False, description="Cut short by the server shutting down.")
    actions: list[CleanupAction]
    total_files_removed: int = Field(description="Files removed (in a dry run: that would be).")
    total_bytes_freed: int
    errors: list[str] = Field(default_factory=list)


class CleanupScheduler(BaseModel):
    enabled: bool = Field(description="housekeeping.enabled: runs every interval.")
    on_start: bool
    running: bool = Field(description="The scheduler thread is alive.")
    busy: bool = Field(description="A run is under way now.")
    cleanup_interval_hours: float
    last_cleanup_time: str | None
    next_cleanup_time: str | None


class CleanupStatusResponse(BaseModel):
    """The schedule and the last runs (newest last, at most five)."""

    scheduler: CleanupScheduler
    history: list[CleanupResponse]


class ResourceStatus(BaseModel):
    """Plus's ``resource_status``: size and file count of each data folder, and the engines' memory."""

    timestamp: float
    directories: dict[str, dict[str, Any]]
    warnings: list[str]
    engine_memory: EngineMemory = Field(description="The memory budget and what each engine holds.")
