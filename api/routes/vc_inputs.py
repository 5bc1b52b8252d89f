"""Clips kept for voice conversion: upload, list (from the metadata index), delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from api.deps import SettingsDep, VCInputsDep
from api.forms import save_upload, upload_name
from api.library import (
    AllQuery,
    ConfirmQuery,
    DryRunQuery,
    FolderShapeQuery,
    Paging,
    bulk_delete,
    check_alias,
    delete_response,
    file_info,
    filters,
    folder_tree,
    page_shape,
    paging,
    require_confirm,
)
from api_models import (
    DeleteResponse,
    FolderTreeResponse,
    LibraryFileInfo,
    RescanResponse,
    VCInputListResponse,
    VCInputUploadResponse,
)
from engines.base import MIN_VC_INPUT_SECONDS
from exceptions import ConflictError, InvalidRequestError
from management.index import Filters
from utils.files import resolve_inside

router = APIRouter(prefix="/api/v1", tags=["vc inputs"])
FiltersDep = Annotated[Filters, Depends(filters)]
PagingDep = Annotated[Paging, Depends(paging)]


@router.get("/vc_inputs", response_model=VCInputListResponse)
def list_vc_inputs(inputs: VCInputsDep, chosen: FiltersDep, pages: PagingDep) -> dict[str, Any]:
    """A page of the clips in vc_inputs/, newest first by default (never decodes audio)."""
    if pages.sort_by == "generation_type":
        raise InvalidRequestError("vc inputs have no generation_type to sort by", param="sort_by")
    page = inputs.page(
        chosen, sort=pages.sort_by, descending=pages.descending, page=pages.page, page_size=pages.page_size
    )
    return page_shape(page, pages, [file_info(e) for e in page.entries])


@router.get("/vc_inputs/folders", response_model=FolderTreeResponse)
def list_vc_input_folders(inputs: VCInputsDep, shape: FolderShapeQuery = "flat") -> FolderTreeResponse:
    """The folders of vc_inputs/ that hold files: a flat list (Plus's shape) or a tree."""
    return folder_tree(inputs, shape)


@router.post("/vc_inputs/rescan", response_model=RescanResponse)
def rescan_vc_inputs(inputs: VCInputsDep) -> RescanResponse:
    """Reconcile the index with vc_inputs/ now (files added or removed by hand)."""
    return RescanResponse(**inputs.scan().__dict__)


@router.get("/vc_inputs/{path:path}", response_model=LibraryFileInfo)
def get_vc_input(path: str, inputs: VCInputsDep) -> LibraryFileInfo:
    """One clip's metadata."""
    return file_info(inputs.get(path, param="path"))


@router.post("/vc_input", response_model=VCInputUploadResponse)
async def upload_vc_input(
    inputs: VCInputsDep,
    settings: SettingsDep,
    vc_input_file: Annotated[UploadFile, File(description="The clip (any common audio format).")],
    text: Annotated[str | None, Form(max_length=10_000, description="What the clip says.")] = None,
    folder_path: Annotated[
        str | None, Form(description="Folder inside vc_inputs/. Alias: `project`.")
    ] = None,
    project: Annotated[str | None, Form(description="Alias of `folder_path`.")] = None,
    overwrite: Annotated[bool, Form(description="Replace a clip of the same name (else 409).")] = False,
) -> VCInputUploadResponse:
    """Keep a clip in vc_inputs/ for voice conversion; a name already taken is a 409 unless overwrite."""
    check_alias("folder_path", folder_path, "project", project, ignore="/")
    param, folder_name = ("folder_path", folder_path) if folder_path else ("project", project)
    folder = resolve_inside(inputs.root, folder_name, param=param) if folder_name else inputs.root.resolve()
    name = upload_name(vc_input_file.filename)
    target = resolve_inside(folder, name, param="vc_input_file")
    if target.exists() and not overwrite:
        raise ConflictError(
            f"{name!r} already exists; send overwrite=true to replace it", param="vc_input_file"
        )
    saved = await save_upload(
        vc_input_file,
        folder,
        max_mb=settings.limits.max_upload_mb,
        param="vc_input_file",
        name=name,
        exists="replace" if overwrite else "refuse",
        min_seconds=MIN_VC_INPUT_SECONDS,
    )
    entry = inputs.add(saved, {"text": text})
    return VCInputUploadResponse(
        message=f"VC input '{entry.name}' uploaded successfully",
        filename=entry.name,
        path=entry.path,
        metadata=entry.metadata,
    )


@router.delete("/vc_input/{path:path}", response_model=DeleteResponse)
@router.delete("/vc_inputs/{path:path}", response_model=DeleteResponse, include_in_schema=False)
def delete_vc_input(
    path: str, inputs: VCInputsDep, confirm: ConfirmQuery = False, dry_run: DryRunQuery = False
) -> DeleteResponse:
    """Delete one clip and its sidecar."""
    require_confirm(confirm, dry_run)
    entry = inputs.get(path, param="path")
    return delete_response(inputs, [entry], dry_run=dry_run, prune=False, noun="VC input")


@router.delete("/vc_inputs", response_model=DeleteResponse)
def delete_vc_inputs(
    inputs: VCInputsDep,
    chosen: FiltersDep,
    confirm: ConfirmQuery = False,
    dry_run: DryRunQuery = False,
    everything: AllQuery = False,
) -> DeleteResponse:
    """Delete the clips matching the filters; no filter deletes nothing unless all=true."""
    return bulk_delete(
        inputs, chosen, confirm=confirm, dry_run=dry_run, everything=everything, noun="VC input"
    )
