"""Generated files: serving them, listing them (from the metadata index), deleting them."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from api.deps import OutputsDep, SettingsDep
from api.library import (
    AllQuery,
    ConfirmQuery,
    DryRunQuery,
    FolderShapeQuery,
    Paging,
    bulk_delete,
    delete_response,
    filters,
    folder_tree,
    generation_type_query,
    output_infos,
    page_shape,
    paging,
    require_confirm,
)
from api_models import DeleteResponse, FolderTreeResponse, OutputInfo, OutputListResponse, RescanResponse
from exceptions import NotFoundError
from management.index import Filters
from utils.audio import FORMATS
from utils.files import resolve_inside

router = APIRouter(tags=["outputs"])
api = APIRouter(prefix="/api/v1", tags=["outputs"])
_TYPES = {f".{f.extension}": f.content_type for f in FORMATS.values()} | {".json": "application/json"}
FiltersDep = Annotated[Filters, Depends(filters)]
PagingDep = Annotated[Paging, Depends(paging)]
TypeDep = Annotated[str | None, Depends(generation_type_query)]


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


@api.get("/outputs", response_model=OutputListResponse)
def list_outputs(
    outputs: OutputsDep, chosen: FiltersDep, pages: PagingDep, generation_type: TypeDep
) -> dict[str, Any]:
    """A page of generated files, one item per format, newest first by default (never decodes audio)."""
    chosen = replace(chosen, generation_type=generation_type)
    page = outputs.page(
        chosen, sort=pages.sort_by, descending=pages.descending, page=pages.page, page_size=pages.page_size
    )
    return page_shape(page, pages, output_infos(outputs, page.entries))


@api.get("/outputs/folders", response_model=FolderTreeResponse)
def list_output_folders(outputs: OutputsDep, shape: FolderShapeQuery = "flat") -> FolderTreeResponse:
    """The folders of outputs/ that hold files: a flat list (Plus's shape) or a tree."""
    return folder_tree(outputs, shape)


@api.post("/outputs/rescan", response_model=RescanResponse)
def rescan_outputs(outputs: OutputsDep) -> RescanResponse:
    """Reconcile the index with outputs/ now (files added or removed by hand)."""
    return RescanResponse(**outputs.scan().__dict__)


@api.get("/outputs/{path:path}", response_model=OutputInfo)
def get_output(path: str, outputs: OutputsDep) -> OutputInfo:
    """One output file's metadata: parameters, text or recipe, duration, every format's URL."""
    return output_infos(outputs, [outputs.get(path, param="path")])[0]


@api.delete("/output/{path:path}", response_model=DeleteResponse)
@api.delete("/outputs/{path:path}", response_model=DeleteResponse, include_in_schema=False)
def delete_output(
    path: str, outputs: OutputsDep, confirm: ConfirmQuery = False, dry_run: DryRunQuery = False
) -> DeleteResponse:
    """Delete one output file (and its sidecar once no other format of it is left)."""
    require_confirm(confirm, dry_run)
    entry = outputs.get(path, param="path")
    return delete_response(outputs, [entry], dry_run=dry_run, prune=False, noun="output")


@api.delete("/outputs", response_model=DeleteResponse)
def delete_outputs(
    outputs: OutputsDep,
    chosen: FiltersDep,
    generation_type: TypeDep,
    confirm: ConfirmQuery = False,
    dry_run: DryRunQuery = False,
    everything: AllQuery = False,
) -> DeleteResponse:
    """Delete the outputs matching the filters; no filter deletes nothing unless all=true."""
    chosen = replace(chosen, generation_type=generation_type)
    return bulk_delete(
        outputs, chosen, confirm=confirm, dry_run=dry_run, everything=everything, noun="output"
    )
