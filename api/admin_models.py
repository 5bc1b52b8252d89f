"""Response models of the housekeeping endpoints (``/api/v1/cleanup``, ``/api/v1/resources``), Plus's shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api_models import EngineMemory
from management.housekeeping import CleanupRun, SchedulerState


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

    @classmethod
    def of(cls, run: CleanupRun) -> CleanupResponse:
        return cls(
            timestamp=_iso(run.finished),
            start_time=_iso(run.started),
            end_time=_iso(run.finished),
            duration_seconds=round(run.finished - run.started, 3),
            trigger=run.trigger,  # type: ignore[arg-type]
            forced=run.trigger == "request",
            dry_run=run.dry_run,
            stopped=run.stopped,
            actions=[CleanupAction(**r.__dict__) for r in run.removals],
            total_files_removed=len(run.removals),
            total_bytes_freed=run.total_bytes,
            errors=run.errors,
        )


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

    @classmethod
    def of(cls, state: SchedulerState, history: list[CleanupRun]) -> CleanupStatusResponse:
        return cls(
            scheduler=CleanupScheduler(
                enabled=state.enabled,
                on_start=state.on_start,
                running=state.running,
                busy=state.busy,
                cleanup_interval_hours=state.interval_hours,
                last_cleanup_time=_iso(state.last_run) if state.last_run else None,
                next_cleanup_time=_iso(state.next_run) if state.next_run else None,
            ),
            history=[CleanupResponse.of(run) for run in history],
        )


class ResourceStatus(BaseModel):
    """Plus's ``resource_status``: size and file count of each data folder, and the engines' memory."""

    timestamp: float
    directories: dict[str, dict[str, Any]]
    warnings: list[str]
    engine_memory: EngineMemory = Field(description="The memory budget and what each engine holds.")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()
