"""Serving generated files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from api.deps import SettingsDep
from exceptions import NotFoundError
from utils.audio import FORMATS
from utils.files import resolve_inside

router = APIRouter(tags=["outputs"])
_TYPES = {f".{f.extension}": f.content_type for f in FORMATS.values()} | {".json": "application/json"}


@router.get("/outputs/{path:path}", response_class=FileResponse)
async def get_output_file(
    path: str,
    settings: SettingsDep,
    download: Annotated[bool, Query(description="Answer with Content-Disposition: attachment.")] = False,
) -> FileResponse:
    """A file from outputs/ (HTTP range requests work, so players can seek)."""
    target = resolve_inside(settings.paths.outputs_dir, path, param="path")
    if not target.is_file() or target.name.startswith("."):
        raise NotFoundError(f"no output file {path!r}", param="path")
    return FileResponse(
        target,
        media_type=_TYPES.get(target.suffix.lower(), "application/octet-stream"),
        filename=target.name if download else None,
        content_disposition_type="attachment",
    )
