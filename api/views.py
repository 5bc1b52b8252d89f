"""Plain results of the engine and stores shaped into the response models that several routes share."""

from __future__ import annotations

from datetime import UTC, datetime

from api_models import (
    CleanupAction,
    CleanupResponse,
    CleanupScheduler,
    CleanupStatusResponse,
    EmotionInfo,
    EngineCapabilities,
    EngineInfo,
    EngineListResponse,
    EngineMemory,
    EnginesResponse,
    EngineStatus,
)
from core.engine_list import EngineEntry, EngineListing
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


_STATES = {"ready": "loaded", "failed": "unavailable"}  # loading and unloaded keep their names


def engine_list(listing: EngineListing) -> EngineListResponse:
    """``/api/v1/models``: the manager's view of every engine, and which one serves by default."""
    return EngineListResponse(
        default=listing.default,
        serving=listing.serving,
        serving_reason=listing.serving_reason,
        engines=[EngineInfo(**entry.info) for entry in listing.engines],
    )


def engines_response(listing: EngineListing, memory: MemoryReport) -> EnginesResponse:
    """``/api/v1/engines``: every engine with its capabilities, in the words of the capability view."""
    return EnginesResponse(
        default=listing.default,
        serving=listing.serving,
        engines=[engine_status(entry) for entry in listing.engines],
        memory=engine_memory(memory),
    )


def engine_status(entry: EngineEntry) -> EngineStatus:
    """The capability view of one engine from the manager's ``info`` and what the engine declares."""
    info, facts = entry.info, entry.facts
    details = {key: value for key, value in info.items() if key not in ("name", "kind", "state", "error")}
    kind = info["kind"]
    capabilities = EngineCapabilities(
        voice_cloning=facts.clones_voices,
        voice_conversion=kind == "vc",
        text_to_speech=kind == "tts",
        streaming=kind == "tts",
        languages=list(facts.languages or details.get("languages", [])),
        sample_rate=details.get("sample_rate"),
    )
    return EngineStatus(
        name=info["name"],
        kind=kind,
        state=_STATES.get(info["state"], info["state"]),
        reason=info["error"],
        capabilities=capabilities,
        details=details,
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
        trigger=run.trigger,
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
