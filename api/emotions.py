"""The shape of emotion-profile forms (JSON, or multipart with sample uploads) and saving their samples."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile

from api.forms import FormShape, save_upload, upload_name
from core_engine import CoreEngine
from engines.base import MIN_REFERENCE_SECONDS
from management.emotions import PARAMETERS, EmotionProfile, slug
from utils.files import project_folder

UPLOAD_FIELD = "sample_files"
MAX_UPLOADS = 4

PROFILE_FORM = FormShape(
    lists=("samples",), group="parameters", group_keys=frozenset(PARAMETERS), max_files=MAX_UPLOADS
)
"""A profile's form: ``samples`` comma-separated, its parameters as plain fields (or ``parameters`` as
JSON), up to ``MAX_UPLOADS`` files in ``sample_files``."""


async def save_samples(engine: CoreEngine, uploads: list[UploadFile], folder: str) -> list[Path]:
    """Keep uploaded samples in voices/<folder>/ (a taken name gets ``_2``), indexed as voices."""
    if not uploads:
        return []
    settings = engine.settings
    target = project_folder(Path(settings.paths.voices_dir), folder)
    saved: list[Path] = []
    try:
        for upload in uploads:
            saved.append(
                await save_upload(
                    upload,
                    target,
                    max_mb=settings.limits.max_upload_mb,
                    param=UPLOAD_FIELD,
                    name=upload_name(upload.filename),
                    min_seconds=MIN_REFERENCE_SECONDS,
                )
            )
    except BaseException:
        remove(saved)
        raise
    voices = {c.library: c for c in engine.libraries.all}.get("voices")
    if voices is not None:
        await asyncio.to_thread(voices.record, saved)
    return saved


async def create_profile(engine: CoreEngine, body: Any, uploads: list[UploadFile]) -> EmotionProfile:
    """Save the uploads, then the profile naming them (uploads are removed again if it is refused)."""
    saved = await save_samples(engine, uploads, body.folder or slug(body.character))
    try:
        return await asyncio.to_thread(
            engine.emotions.create,
            character=body.character,
            emotion=body.emotion,
            exaggeration=body.exaggeration,
            samples=[*body.samples, *map(_voice_name(engine), saved)],
            parameters=body.parameters.model_dump(exclude_none=True),
            description=body.description,
            profile_id=body.id,
        )
    except BaseException:
        remove(saved)
        raise


async def update_profile(
    engine: CoreEngine, profile_id: str, body: Any, uploads: list[UploadFile]
) -> EmotionProfile:
    """Change a profile; uploaded samples are added after the ``samples`` given (or kept)."""
    current = engine.emotions.get(profile_id)
    changes = {
        key: value
        for key, value in body.model_dump(exclude_unset=True, exclude={"folder"}).items()
        if value is not None or key in ("description", "parameters")  # null clears these only
    }
    if "parameters" in changes:
        changes["parameters"] = body.parameters.model_dump(exclude_none=True) if body.parameters else {}
    folder = body.folder or slug(body.character or current.character)
    saved = await save_samples(engine, uploads, folder)
    if saved:
        changes["samples"] = [*(body.samples if body.samples is not None else current.samples)]
        changes["samples"] += map(_voice_name(engine), saved)
    try:
        return await asyncio.to_thread(engine.emotions.update, profile_id, changes)
    except BaseException:
        remove(saved)
        raise


def remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _voice_name(engine: CoreEngine) -> Any:
    root = Path(engine.settings.paths.voices_dir).resolve()
    return lambda path: path.resolve().relative_to(root).as_posix()
