"""What the voice routes share: query parameters, form fields, the item shape and storing uploads."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Depends, Query, UploadFile
from pydantic import ValidationError

from api.compat.sorting import page_size as plus_page_size
from api.compat.sorting import sort_key
from api.forms import copy_limited, hidden_upload, upload_name
from api.library import LimitQuery, PageQuery, PageSizeQuery, Paging, check_alias, filters, page_shape
from api_models import (
    VoiceBulkUploadResponse,
    VoiceInfo,
    VoiceParameters,
    VoiceQualityInfo,
    VoiceUploadResponse,
)
from config import Settings
from engines.base import MIN_REFERENCE_SECONDS
from exceptions import ConflictError, InvalidRequestError
from management.index import Entry, Filters, Page
from management.voices import ImportReport, VoiceLibrary, import_zip, parse_tags, voice_name
from utils.files import resolve_inside


def voice_paging(
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
    limit: LimitQuery = None,
    sort_by: Annotated[
        str,
        Query(
            description="Sort key: name, date (added), duration, usage (times used) or size "
            "(Plus's filename, created_date, usage_count, file_size also work)."
        ),
    ] = "name",
    order: Annotated[
        Literal["asc", "desc"] | None, Query(description="Default: asc for name, desc for the others.")
    ] = None,
    sort_order: Annotated[Literal["asc", "desc"] | None, Query(description="Alias of `order`.")] = None,
) -> Paging:
    check_alias("order", order, "sort_order", sort_order)
    sort_by = sort_key(sort_by, ("name", "date", "duration", "usage", "size"))
    chosen = order or sort_order or ("asc" if sort_by == "name" else "desc")
    return Paging(page, plus_page_size(page_size, limit), sort_by, chosen == "desc")


def voice_filters(
    chosen: Annotated[Filters, Depends(filters)],
    tag: Annotated[str | None, Query(max_length=100, description="Only voices with this tag.")] = None,
) -> Filters:
    """Folder (or project), search (name, description, tags, folder), file names, dates and tag."""
    return replace(chosen, tag=tag.strip() or None if tag else None)


VoicePagingDep = Annotated[Paging, Depends(voice_paging)]
VoiceFiltersDep = Annotated[Filters, Depends(voice_filters)]


def voice_page(page: Page, paging: Paging) -> dict[str, Any]:
    """Plus's paged shape, with the voices under ``voices``."""
    shape = page_shape(page, paging, [voice_info(e) for e in page.entries])
    return {**shape, "voices": shape.pop("files"), "total_voices": shape.pop("total_files")}


def voice_info(entry: Entry) -> VoiceInfo:
    meta = entry.metadata
    tags, params = meta.get("tags"), meta.get("default_parameters")
    count = meta.get("usage_count")
    return VoiceInfo(
        name=str(entry.metadata.get("name") or entry.stem),
        filename=entry.name,
        path=entry.path,
        url=entry.path,
        audio_url=f"/api/v1/voices/{quote(entry.path)}/audio",
        folder_path=entry.folder or None,
        description=_text(meta.get("description")) or f"Voice file: {entry.stem}",
        tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        default_parameters=params if isinstance(params, dict) else {},
        duration_seconds=entry.duration,
        sample_rate=entry.sample_rate,
        file_size_bytes=entry.size,
        format=entry.format,
        created_date=datetime.fromtimestamp(entry.created).astimezone().isoformat(timespec="seconds"),
        last_updated=_text(meta.get("last_updated")),
        last_used=_text(meta.get("last_used")),
        usage_count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
        quality=_quality(meta.get("quality")),
    )


def upload_response(entry: Entry, quality: dict[str, Any] | None, verb: str) -> VoiceUploadResponse:
    return VoiceUploadResponse(
        message=f"Voice '{entry.metadata.get('name') or entry.stem}' {verb} successfully",
        filename=entry.name,
        path=entry.path,
        voice_metadata=voice_info(entry),
        quality=_quality(quality),
    )


# ---- form fields -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceFields:
    """The form fields an upload shares with a bulk upload, checked."""

    description: str | None
    tags: list[str]
    default_parameters: dict[str, Any]
    folder: str | None  # relative to voices/
    overwrite: bool
    display_name: str | None = None  # the upload's `name` (the file keeps its own name, as in Plus)


def voice_fields(
    *,
    description: str | None = None,
    tags: str | None = None,
    folder_path: str | None = None,
    project: str | None = None,
    default_parameters: str | None = None,
    overwrite: bool = False,
) -> VoiceFields:
    """Parse tags (comma list or JSON list), default parameters (JSON object) and the folder alias."""
    check_alias("folder_path", folder_path, "project", project, ignore="/")
    folder = (folder_path or project or "").strip().rstrip("/") or None
    return VoiceFields(description, parse_tags(tags), parse_parameters(default_parameters), folder, overwrite)


def parse_parameters(value: str | None) -> dict[str, Any]:
    """A form's ``default_parameters`` (a JSON object), checked; a 400 naming the field."""
    if not value or not value.strip():
        return {}
    return check_parameters(value)


def check_parameters(value: Any) -> dict[str, Any]:
    """Default parameters (JSON text, or a sidecar's object) checked as a request's would be."""
    try:
        if isinstance(value, str):
            parsed = VoiceParameters.model_validate_json(value)
        else:
            parsed = VoiceParameters.model_validate(value)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        detail = f"{where}: {error['msg']}" if where else error["msg"]
        raise InvalidRequestError(
            f"'default_parameters' is invalid: {detail}", param="default_parameters"
        ) from None
    return parsed.model_dump(exclude_none=True)


# ---- storing uploads -------------------------------------------------------------------------


def target_of(voices: VoiceLibrary, upload: UploadFile, name: str | None, folder: str | None) -> Path:
    """Where an uploaded voice goes: ``<folder>/<name or the upload's stem><its extension>``."""
    filename = upload_name(upload.filename, default="voice.wav")
    stem = (
        voice_name(name, param="name")
        if name
        else voice_name(Path(filename).stem, param="voice_file", strip_extension=False)
    )
    base = resolve_inside(voices.root, folder, param="folder_path") if folder else voices.root.resolve()
    return resolve_inside(base, stem + Path(filename).suffix, param="name" if name else "voice_file")


def display_name(name: str | None) -> str | None:
    """An upload's ``name``: free text kept as the voice's display name; blank is none."""
    if name is None or not name.strip():
        return None
    return voice_name(name, param="name", strip_extension=False)  # no folders, no "..": one plain name


def refuse_taken(targets: list[Path], overwrite: bool, param: str) -> None:
    """409 before anything is written when a voice exists (without overwrite); 400 for a name sent twice."""
    if len(set(targets)) != len(targets):
        raise InvalidRequestError("two uploads would get the same voice name", param=param)
    taken = [t.name for t in targets if t.exists()]
    if taken and not overwrite:
        raise ConflictError(
            f"voice {', '.join(map(repr, taken))} already exists; send overwrite=true to replace it",
            param=param,
        )


async def store_voice(
    voices: VoiceLibrary, upload: UploadFile, target: Path, fields: VoiceFields, *, max_mb: float, param: str
) -> VoiceUploadResponse:
    """Stream an upload to its place (whole or not at all; must decode), measure it and record it.

    Stored through ``VoiceLibrary.publish``, as the UI's uploads are: the record is written before
    the audio is published, so a voice never appears without it.
    """
    async with hidden_upload(
        upload, target.parent, target.name, max_mb=max_mb, param=param, min_seconds=MIN_REFERENCE_SECONDS
    ) as unpublished:
        entry, quality = await asyncio.to_thread(
            voices.publish,
            unpublished,
            target,
            overwrite=fields.overwrite,
            param=param,
            description=fields.description,
            tags=fields.tags,
            default_parameters=fields.default_parameters,
            display_name=fields.display_name,
        )
    return upload_response(entry, quality, "uploaded")


async def store_voices(
    voices: VoiceLibrary, uploads: list[UploadFile], fields: VoiceFields, settings: Settings
) -> VoiceBulkUploadResponse:
    """Several uploads, each its own voice (zips unpacked); any name taken is a 409 before any write."""
    audio = [u for u in uploads if not is_zip(u)]
    targets = [target_of(voices, u, None, fields.folder) for u in audio]
    refuse_taken(targets, fields.overwrite, "voice_files")
    limit = settings.limits.max_upload_mb
    stored = [
        await store_voice(voices, u, t, fields, max_mb=limit, param="voice_files")
        for u, t in zip(audio, targets, strict=True)
    ]
    skipped: dict[str, str] = {}
    for archive in (u for u in uploads if is_zip(u)):
        report = await import_archive(
            voices, archive, settings, folder=fields.folder, overwrite=fields.overwrite, param="voice_files"
        )
        for path in report.imported + report.replaced:
            stored.append(upload_response(voices.catalog.get(path, param="voice_files"), None, "imported"))
        skipped |= {f"{archive.filename}:{name}": why for name, why in report.skipped.items()}
    return VoiceBulkUploadResponse(message=f"Uploaded {len(stored)} voice(s)", voices=stored, skipped=skipped)


async def import_archive(
    voices: VoiceLibrary,
    upload: UploadFile,
    settings: Settings,
    *,
    folder: str | None,
    overwrite: bool,
    param: str = "archive",
) -> ImportReport:
    """A zip upload unpacked into the library (its size and unpacked size capped by limits.max_archive_mb)."""
    limit = settings.limits.max_archive_mb
    async with spooled(upload, Path(settings.paths.temp_dir), max_mb=limit, param=param) as path:
        return await asyncio.to_thread(
            import_zip,
            voices,
            path,
            folder=folder,
            overwrite=overwrite,
            max_bytes=int(limit * 2**20),
            param=param,
            check_parameters=check_parameters,
            min_seconds=MIN_REFERENCE_SECONDS,
        )


@contextlib.asynccontextmanager
async def spooled(upload: UploadFile, folder: Path, *, max_mb: float, param: str) -> AsyncIterator[Path]:
    """An upload (any kind of file) streamed to a temporary file for the length of the request."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix="upload_", suffix=".part")
    path = Path(temp)
    try:
        with os.fdopen(fd, "wb") as handle:
            await copy_limited(upload, handle, max_mb=max_mb, param=param, setting="limits.max_archive_mb")
        yield path
    finally:
        path.unlink(missing_ok=True)


def is_zip(upload: UploadFile) -> bool:
    return (upload.filename or "").lower().endswith(".zip") or upload.content_type in {
        "application/zip",
        "application/x-zip-compressed",
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _quality(value: Any) -> VoiceQualityInfo | None:
    if not isinstance(value, dict):
        return None
    try:
        return VoiceQualityInfo.model_validate(value)
    except ValidationError:  # a sidecar edited by hand
        return None
