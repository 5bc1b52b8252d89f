"""Long-text TTS jobs: ``/api/v1/tts/jobs`` (submit, status, progress events, cancel)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import EngineDep
from api.params import ERRORS, speech_request
from api.responses import Responses, file_infos
from api_models import TTSRequest
from core.jobs import Job

router = APIRouter(prefix="/api/v1/tts/jobs", tags=["speech"])


@router.post("", status_code=202, responses=ERRORS)
async def submit_job(body: TTSRequest, engine: EngineDep) -> JSONResponse:
    """Start speaking a long text (a chapter) in the background; answers at once with the job."""
    request = speech_request(body, None)
    engine.precheck(request)  # bad text, engine or language: a 400 now, not a failed job later
    job = engine.jobs.submit(request)
    return JSONResponse(_describe(job, str(engine.settings.paths.outputs_dir)), status_code=202)


@router.get("")
async def list_jobs(engine: EngineDep) -> JSONResponse:
    """Recent jobs, newest first."""
    outputs = str(engine.settings.paths.outputs_dir)
    return JSONResponse({"jobs": [_describe(job, outputs) for job in engine.jobs.list()]})


@router.get("/{job_id}", responses=ERRORS)
async def get_job(job_id: str, engine: EngineDep) -> JSONResponse:
    """A job's status, progress (chunks done of total, audio seconds so far) and, when done, its files."""
    return JSONResponse(_describe(engine.jobs.get(job_id), str(engine.settings.paths.outputs_dir)))


_EVENTS: Responses = {
    200: {
        "description": "A stream of server-sent events (`event: progress|done|failed|cancelled`, JSON data).",
        "content": {"text/event-stream": {}},
    }
}


@router.get("/{job_id}/events", response_class=StreamingResponse, responses={**_EVENTS, **ERRORS})
async def job_events(job_id: str, engine: EngineDep) -> StreamingResponse:
    """Server-sent events: `progress` on every change, then `done`, `failed` or `cancelled`."""
    engine.jobs.get(job_id)  # a 404 before the stream starts
    outputs = str(engine.settings.paths.outputs_dir)

    async def events() -> AsyncIterator[str]:
        async for job in engine.jobs.watch(job_id):
            kind = job.status if job.finished_yet else "progress"
            yield f"event: {kind}\ndata: {json.dumps(_describe(job, outputs))}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@router.delete("/{job_id}", responses=ERRORS)
async def cancel_job(job_id: str, engine: EngineDep) -> JSONResponse:
    """Cancel a job (the chunk being spoken finishes; nothing is saved). A finished job is left as it is."""
    job = await engine.jobs.cancel(job_id)
    return JSONResponse(_describe(job, str(engine.settings.paths.outputs_dir)))


def _describe(job: Job, outputs_dir: str) -> dict[str, Any]:
    progress = job.progress
    answer: dict[str, Any] = {
        "job_id": job.id,
        "status": job.status,
        "url": f"/api/v1/tts/jobs/{job.id}",
        "text_chars": job.text_chars,
        "progress": {
            "chunks_done": progress.done,
            "chunks_total": progress.total,
            "fraction": round(progress.fraction, 3) if progress.total else 0.0,
            "audio_seconds": progress.audio_seconds,
        },
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "error": job.error,
    }
    if job.result is not None:
        result = job.result
        answer["result"] = {
            "output_files": [info.model_dump() for info in file_infos(result.files, outputs_dir)],
            "generation_seed_used": result.seed,
            "duration_seconds": round(result.clip.duration, 3),
            "processing_time_seconds": round(result.processing_seconds, 3),
            "warnings": result.warnings,
        }
    return answer
