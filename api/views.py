"""Plain results of the engine and stores shaped into the response models that several routes share."""

from __future__ import annotations

from datetime import UTC, datetime

from api_models import (
    CleanupAction,
    CleanupResponse,
    CleanupScheduler,
    CleanupStatusResponse,
    EmotionInfo,
    EngineMemory,
)
from engines.memory import MB, MemoryReport
from management.emotions import PREFIX, EmotionProfile
from management.housekeeping import CleanupRun, SchedulerState


def engine_memory(report: MemoryReport) -> EngineMemory:
    """The public view of the memory budget, in MB."""
    return EngineMemory(
        budget_mb=round(report.budget_bytes / MB, 1),
        resident_mb=round(report.total / MB, 1),
        engines={name: round(size / MB, 1) for name, size in report.resident.items()},
        warning=report.warning,
    )


def emotion_info(profile: EmotionProfile) -> EmotionInfo:
    """The public view of one emotion profile (``voice`` is what a speech request sends)."""
    return EmotionInfo(voice=f"{PREFIX}{profile.id}", **profile.as_dict())


def cleanup_response(run: CleanupRun) -> CleanupResponse:
    """The public view of one housekeeping run."""
    return CleanupResponse(
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


def cleanup_status(state: SchedulerState, history: list[CleanupRun]) -> CleanupStatusResponse:
    """The housekeeping schedule and its last runs."""
    return CleanupStatusResponse(
        scheduler=CleanupScheduler(
            enabled=state.enabled,
            on_start=state.on_start,
            running=state.running,
            busy=state.busy,
            cleanup_interval_hours=state.interval_hours,
            last_cleanup_time=_iso(state.last_run) if state.last_run else None,
            next_cleanup_time=_iso(state.next_run) if state.next_run else None,
        ),
        history=[cleanup_response(run) for run in history],
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()
