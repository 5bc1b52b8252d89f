"""Housekeeping on demand, its schedule, and the data folders' sizes."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import EngineDep
from api.views import cleanup_response, cleanup_status, engine_memory
from api_models import CleanupResponse, CleanupStatusResponse, ResourceStatus
from monitoring.system import directory_usage

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
WARN_PERCENT = 80


@router.post("/cleanup", response_model=CleanupResponse)
async def run_cleanup(
    engine: EngineDep,
    dry_run: Annotated[bool, Query(description="Only report what would be removed.")] = False,
) -> CleanupResponse:
    """Remove empty, unreadable and stale files now (and outputs past the retention limits)."""
    run = await asyncio.to_thread(engine.housekeeper.run, dry_run=dry_run, trigger="request")
    return cleanup_response(run)


@router.get("/cleanup/status", response_model=CleanupStatusResponse)
def get_cleanup_status(engine: EngineDep) -> CleanupStatusResponse:
    """The housekeeping schedule (interval, last and next run) and the last five runs."""
    keeper = engine.housekeeper
    return cleanup_status(keeper.state(), list(keeper.history))


@router.get("/resources", response_model=ResourceStatus)
def get_resources(engine: EngineDep) -> ResourceStatus:
    """Size and file count of outputs/, voices/, vc_inputs/ and the temp folder; the engines' memory."""
    paths = engine.settings.paths
    usage = directory_usage(
        {
            "outputs": paths.outputs_dir,
            "voices": paths.voices_dir,
            "vc_inputs": paths.vc_inputs_dir,
            "temp": paths.temp_dir,
        }
    )
    limit = engine.settings.housekeeping.retention.max_total_mb
    if limit:
        outputs = usage["directories"]["outputs"]
        outputs["max_size_mb"] = limit
        outputs["usage_percent"] = round(100 * outputs["size_mb"] / limit, 1)
        if outputs["usage_percent"] >= WARN_PERCENT:
            usage["warnings"].append(f"outputs/ is at {outputs['usage_percent']}% of its retention limit")
    memory = engine_memory(engine.memory())
    if memory.warning:
        usage["warnings"].append(memory.warning)
    return ResourceStatus(**usage, engine_memory=memory)
