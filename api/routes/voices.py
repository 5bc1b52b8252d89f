"""The voice library: upload (one, several, a zip), list, edit, delete, export and import voices/."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, StreamingResponse

from api.deps import SettingsDep, VoicesDep
from api.library import (
    AllQuery,
    ConfirmQuery,
    DryRunQuery,
    FolderShapeQuery,
    bulk_delete,
    delete_response,
    folder_tree,
    require_confirm,
)
from api.voice_forms import (
    VoiceFiltersDep,
    VoicePagingDep,
    display_name,
    import_archive,
    refuse_taken,
    store_voice,
    store_voices,
    target_of,
    upload_response,
    voice_fields,
    voice_info,
    voice_page,
)
from api_models import (
    DeleteResponse,
    FolderTreeResponse,
    RescanResponse,
    VoiceBulkUploadResponse,
    VoiceImportResponse,
    VoiceInfo,
    VoiceListResponse,
    VoiceMetadataUpdate,
    VoiceUploadResponse,
)
from management.voices import VoiceEdit, export_zip
from utils.audio import FORMATS

router = APIRouter(prefix="/api/v1", tags=["voices"])
_TYPES = {f.extension: f.content_type for f in FORMATS.values()}

Description = Annotated[
    str | None, Form(max_length=2000, description="What the voice is (default: 'Voice file: <name>').")
]
Tags = Annotated[
    str | None, Form(description='Comma-separated (`calm,male`) or a JSON list (`["calm","male"]`).')
]
FolderPath = Annotated[
    str | None, Form(description="Folder inside voices/ (created when missing). Alias: `project`.")
]
Project = Annotated[str | None, Form(description="Alias of `folder_path`.")]
DefaultParameters = Annotated[
    str | None,
    Form(description='JSON object: `{"exaggeration": 0.7, "cfg_weight": 0.3, "temperature": 0.8}`.'),
]
Overwrite = Annotated[bool, Form(description="Replace a voice of the same name (else 409).")]


@router.get("/voices", response_model=VoiceListResponse)
def list_voices(voices: VoicesDep, chosen: VoiceFiltersDep, pages: VoicePagingDep) -> dict[str, Any]:
    """A page of voices with their metadata, by name by default (from the index: never decodes audio)."""
    page = voices.catalog.page(
        chosen, sort=pages.sort_by, descending=pages.descending, page=pages.page, page_size=pages.page_size
    )
    return voice_page(page, pages)


@router.get("/voices/folders", response_model=FolderTreeResponse)
def list_voice_folders(voices: VoicesDep, shape: FolderShapeQuery = "flat") -> FolderTreeResponse:
    """The folders of voices/ with their counts: a flat list (Plus's shape) or a tree."""
    return folder_tree(voices.catalog, shape)


@router.post("/voices/rescan", response_model=RescanResponse)
def rescan_voices(voices: VoicesDep) -> RescanResponse:
    """Reconcile the index with voices/ now (voices added or removed by hand)."""
    return RescanResponse(**voices.catalog.scan().__dict__)


@router.get("/voices/export", response_class=StreamingResponse)
def export_voices(voices: VoicesDep, chosen: VoiceFiltersDep) -> StreamingResponse:
    """The library (or the voices matching the filters) as a zip of audio and sidecars, streamed."""
    name = f"voices-{datetime.now():%Y-%m-%d_%H%M%S}.zip"
    return StreamingResponse(
        export_zip(voices, voices.catalog.select(chosen)),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/voices/import", response_model=VoiceImportResponse)
async def import_voices(
    voices: VoicesDep,
    settings: SettingsDep,
    archive: Annotated[
        UploadFile, File(description="A zip made by GET /api/v1/voices/export (or any zip of audio).")
    ],
    folder_path: FolderPath = None,
    project: Project = None,
    overwrite: Annotated[
        bool, Form(description="Replace voices that exist (else they are skipped).")
    ] = False,
) -> VoiceImportResponse:
    """Restore voices (and their metadata) from a zip; unsafe entry names refuse the whole archive."""
    fields = voice_fields(folder_path=folder_path, project=project, overwrite=overwrite)
    report = await import_archive(voices, archive, settings, folder=fields.folder, overwrite=overwrite)
    n = len(report.imported) + len(report.replaced)
    return VoiceImportResponse(message=f"Imported {n} voice(s)", **report.__dict__)


@router.post("/voices", response_model=VoiceBulkUploadResponse)
async def upload_voices(
    voices: VoicesDep,
    settings: SettingsDep,
    voice_files: Annotated[
        list[UploadFile], File(description="Audio files (or zips of them), each its own voice.")
    ],
    description: Description = None,
    tags: Tags = None,
    folder_path: FolderPath = None,
    project: Project = None,
    default_parameters: DefaultParameters = None,
    overwrite: Overwrite = False,
) -> VoiceBulkUploadResponse:
    """Upload several voices at once, named after their files (zips unpacked); a taken name is a 409."""
    fields = voice_fields(
        description=description,
        tags=tags,
        folder_path=folder_path,
        project=project,
        default_parameters=default_parameters,
        overwrite=overwrite,
    )
    return await store_voices(voices, voice_files, fields, settings)


@router.get("/voices/{path:path}/audio", response_class=FileResponse)
def get_voice_audio(
    path: str,
    voices: VoicesDep,
    download: Annotated[bool, Query(description="Answer with Content-Disposition: attachment.")] = False,
) -> FileResponse:
    """The voice's audio file, to play (HTTP range requests work) or, with download=true, to save."""
    entry = voices.get(path, param="path")
    return FileResponse(
        voices.root / entry.path,
        media_type=_TYPES.get(entry.format, "application/octet-stream"),
        filename=entry.name if download else None,
        content_disposition_type="attachment",
    )


@router.get("/voices/{path:path}", response_model=VoiceInfo)
@router.get("/voice/{path:path}", response_model=VoiceInfo, include_in_schema=False)
def get_voice(path: str, voices: VoicesDep) -> VoiceInfo:
    """One voice's metadata, by relative path (or by file name when only one folder holds it)."""
    return voice_info(voices.get(path, param="path"))


@router.post("/voice", response_model=VoiceUploadResponse)
async def upload_voice(
    voices: VoicesDep,
    settings: SettingsDep,
    voice_file: Annotated[UploadFile, File(description="The reference audio (any common format).")],
    name: Annotated[
        str | None,
        Form(
            max_length=200,
            description="Display name, kept in the voice's metadata (default: the file's stem); `voice` "
            "accepts it as well as the file name. The file keeps the uploaded file's name.",
        ),
    ] = None,
    description: Description = None,
    tags: Tags = None,
    folder_path: FolderPath = None,
    project: Project = None,
    default_parameters: DefaultParameters = None,
    overwrite: Overwrite = False,
) -> VoiceUploadResponse:
    """Add a voice to the library, with a quality report; a name already taken is a 409 unless overwrite."""
    fields = voice_fields(
        description=description,
        tags=tags,
        folder_path=folder_path,
        project=project,
        default_parameters=default_parameters,
        overwrite=overwrite,
    )
    target = target_of(voices, voice_file, None, fields.folder)  # the file keeps its name (as in Plus)
    refuse_taken([target], overwrite, "voice_file")
    fields = replace(fields, display_name=display_name(name))
    return await store_voice(
        voices, voice_file, target, fields, max_mb=settings.limits.max_upload_mb, param="voice_file"
    )


@router.put("/voice/{path:path}/metadata", response_model=VoiceUploadResponse)
@router.put("/voices/{path:path}/metadata", response_model=VoiceUploadResponse, include_in_schema=False)
def update_voice(path: str, update: VoiceMetadataUpdate, voices: VoicesDep) -> VoiceUploadResponse:
    """Change a voice's description, tags or default parameters; rename or move it (409 when taken)."""
    params = update.default_parameters
    edit = VoiceEdit(
        name=update.name,
        description=update.description,
        tags=update.tags,
        default_parameters=params.model_dump(exclude_none=True) if params is not None else None,
        folder=update.folder_path,
    )
    entry = voices.update(voices.get(path, param="path"), edit)
    return upload_response(entry, None, "updated")


@router.delete("/voice/{path:path}", response_model=DeleteResponse)
@router.delete("/voices/{path:path}", response_model=DeleteResponse, include_in_schema=False)
def delete_voice(
    path: str, voices: VoicesDep, confirm: ConfirmQuery = False, dry_run: DryRunQuery = False
) -> DeleteResponse:
    """Delete one voice and its sidecar (confirm=true, or dry_run=true to preview)."""
    require_confirm(confirm, dry_run)
    entry = voices.get(path, param="path")
    return delete_response(voices.catalog, [entry], dry_run=dry_run, prune=False, noun="voice")


@router.delete("/voices", response_model=DeleteResponse)
def delete_voices(
    voices: VoicesDep,
    chosen: VoiceFiltersDep,
    confirm: ConfirmQuery = False,
    dry_run: DryRunQuery = False,
    everything: AllQuery = False,
) -> DeleteResponse:
    """Delete the voices matching the filters (folder, tag, search, filenames); none without all=true."""
    return bulk_delete(
        voices.catalog,
        chosen,
        confirm=confirm,
        dry_run=dry_run,
        everything=everything,
        noun="voice",
        filter_names="folder, tag, search, filenames, date_from, date_to",
    )
