"""Reading emotion-profile bodies (JSON, or multipart with sample uploads) and saving their samples."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from api.forms import save_upload, upload_name
from core_engine import CoreEngine
from engines.base import MIN_REFERENCE_SECONDS
from exceptions import InvalidRequestError
from management.emotions import PARAMETERS, EmotionProfile, slug
from utils.files import project_folder

M = TypeVar("M", bound=BaseModel)
UPLOAD_FIELD = "sample_files"
MAX_UPLOADS = 4


async def read_profile_body(request: Request, model: type[M]) -> tuple[M, list[UploadFile]]:
    """The validated body and any ``sample_files`` uploads (multipart: parameters as plain fields)."""
    uploads: list[UploadFile] = []
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        data: dict[str, Any] = {}
        samples: list[str] = []
        for key, value in form.multi_items():
            if isinstance(value, str):
                if key == "samples":
                    samples += [part.strip() for part in value.split(",") if part.strip()]
                elif key in PARAMETERS:
                    data.setdefault("parameters", {})[key] = value
                elif key == "parameters":
                    data["parameters"] = _json(value, key)
                else:
                    data[key] = value
            elif key == UPLOAD_FIELD:
                uploads.append(value)
            else:
                raise InvalidRequestError(
                    f"unexpected file field {key!r}; files go in {UPLOAD_FIELD!r}", param=key
                )
        if samples:
            data["samples"] = samples
        if len(uploads) > MAX_UPLOADS:
            raise InvalidRequestError(f"at most {MAX_UPLOADS} sample files per request", param=UPLOAD_FIELD)
    else:
        raw = await request.body()
        data = _json(raw, "body") if raw.strip() else {}
    try:
        return model.model_validate(data), uploads
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


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


def _json(raw: str | bytes, param: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": (param,), "msg": f"JSON decode error: {exc}", "input": None}]
        ) from exc
