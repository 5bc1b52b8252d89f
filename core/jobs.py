"""Long-text TTS jobs: submitted, run in the background, watched, cancelled.

A job is one ``SpeechService.synthesize`` call on an asyncio task; its progress comes from the same
progress callback the log and the UI use, and its result lands in outputs/ like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from core.progress import Progress
from core.requests import SpeechRequest, SpeechResult
from core.speech import SpeechService
from exceptions import ChatterboxError, NotFoundError

logger = logging.getLogger(__name__)
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED: tuple[JobStatus, ...] = ("done", "failed", "cancelled")


@dataclass
class Job:
    """A TTS job's state; ``version`` goes up on every change (watchers wait for the next one)."""

    id: str
    text_chars: int
    status: JobStatus = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    progress: Progress = field(default_factory=lambda: Progress("speak", 0, 0))
    result: SpeechResult | None = None
    error: dict[str, Any] | None = None
    version: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def finished_yet(self) -> bool:
        return self.status in FINISHED


def _moved_on(job: Job, seen: int) -> bool:
    return job.version != seen


class JobManager:
    """Runs TTS jobs on the event loop; keeps the most recent ``keep`` of them."""

    def __init__(self, speech: SpeechService, *, keep: int = 200) -> None:
        self._speech = speech
        self.keep = keep
        self._jobs: dict[str, Job] = {}
        self._notifying: set[asyncio.Task[None]] = set()  # progress notifications in flight

    def submit(self, request: SpeechRequest) -> Job:
        """Start a job; returns at once."""
        job = Job(id=secrets.token_hex(8), text_chars=len(request.text))
        self._jobs[job.id] = job
        self._forget_old()
        job.task = asyncio.create_task(self._run(job, request), name=f"tts-job-{job.id}")
        return job

    def get(self, job_id: str) -> Job:
        """A job by id; an unknown id is a 404."""
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no TTS job {job_id!r} (finished jobs are kept a while)", param="job_id")
        return job

    def list(self) -> list[Job]:
        """Every kept job, newest first."""
        return sorted(self._jobs.values(), key=lambda job: job.created, reverse=True)

    async def cancel(self, job_id: str) -> Job:
        """Stop a job: the chunk being spoken finishes, no more start, nothing is saved."""
        job = self.get(job_id)
        if not job.finished_yet and job.task is not None:
            job.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.task
        return job

    async def watch(self, job_id: str) -> AsyncIterator[Job]:
        """The job now and after each change, until it has finished."""
        job = self.get(job_id)
        seen = -1
        while True:
            async with job.changed:
                await job.changed.wait_for(functools.partial(_moved_on, job, seen))
                seen, finished = job.version, job.finished_yet
            yield job
            if finished:  # as of what was yielded: a change meanwhile is yielded next time round
                return

    async def stop(self) -> None:
        """Cancel every running job (server shutdown)."""
        for job in list(self._jobs.values()):
            if job.task is not None and not job.task.done():
                job.task.cancel()
        tasks = [job.task for job in self._jobs.values() if job.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: Job, request: SpeechRequest) -> None:
        loop = asyncio.get_running_loop()

        def on_progress(progress: Progress) -> None:  # on the event loop: between chunks, and during one
            job.progress = progress
            task = loop.create_task(self._changed(job))
            self._notifying.add(task)
            task.add_done_callback(self._notifying.discard)

        await self._changed(job, status="running", started=time.time())
        try:
            job.result = await self._speech.synthesize(request, on_progress, wait_for_room=True)
        except asyncio.CancelledError:
            await asyncio.shield(self._changed(job, status="cancelled", finished=time.time()))
            raise
        except ChatterboxError as exc:
            job.error = {"message": exc.message, "type": exc.error_type, "param": exc.param, "code": exc.code}
            await self._changed(job, status="failed", finished=time.time())
        except Exception as exc:  # a job's failure is reported on the job, and logged
            logger.exception("TTS job %s failed", job.id)
            job.error = {"message": f"generation failed: {exc}", "type": "server_error", "param": None}
            await self._changed(job, status="failed", finished=time.time())
        else:
            await self._changed(job, status="done", finished=time.time())

    async def _changed(self, job: Job, **updates: Any) -> None:
        async with job.changed:
            for key, value in updates.items():
                setattr(job, key, value)
            job.version += 1
            job.changed.notify_all()

    def _forget_old(self) -> None:
        finished = [job for job in self.list() if job.finished_yet]
        for job in finished[self.keep :]:
            self._jobs.pop(job.id, None)
