"""travisvn/chatterbox-tts-api's voice library routes: upload, show, download, rename, delete.

Its paths (``/v1/voices/...`` and ``/voices/...``), form fields and answers, over our library:
a voice uploaded as ``voice_name=bob`` is ``bob.<ext>`` in ``voices/`` and ``voice: "bob"`` speaks
with it. Its default voice, aliases and cleanup are in compat_travisvn_marks.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse

from api.compat.languages import language_items
from api.compat.travisvn import voice_item
from api.deps import EngineDep, SettingsDep, VoicesDep
from api.voice_forms import VoiceFields, refuse_taken, store_voice, target_of
from api_models import ErrorResponse
from exceptions import InvalidRequestError
from management.index import Filters
from management.voices.marks import aliases_of, annotate
from management.voices.records import VoiceEdit

router = APIRouter(tags=["compat: travisvn"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (400, 404, 409, 413)}
VoiceName = Annotated[
    str, Form(min_length=1, max_length=100, description="The voice's name (used as `voice`).")
]


@router.post("/v1/voices", status_code=201, responses=_ERRORS)
@router.post("/voices", status_code=201, responses=_ERRORS, include_in_schema=False)
async def upload_named_voice(
    engine: EngineDep,
    voices: VoicesDep,
    settings: SettingsDep,
    voice_name: VoiceName,
    voice_file: Annotated[UploadFile, File(description="The reference audio (any common format).")],
    language: Annotated[str, Form(min_length=2, max_length=5, description="What the voice speaks.")] = "en",
) -> dict[str, Any]:
    """travisvn's upload: the file stored as `<voice_name>.<ext>`; a name taken is a 409."""
    codes = [item["code"] for item in language_items(engine)]
    if language.lower() not in codes:
        raise InvalidRequestError(
            f"language {language!r}: the serving engine speaks {', '.join(codes)}", param="language"
        )
    target = target_of(voices, voice_file, voice_name, None)
    refuse_taken([target], False, "voice_name")
    fields = VoiceFields(None, [], {}, None, overwrite=False)
    stored = await store_voice(
        voices, voice_file, target, fields, max_mb=settings.limits.max_upload_mb, param="voice_file"
    )
    entry = annotate(voices, voices.get(stored.path, param="voice_name"), language=language.lower())
    return {"message": "Voice uploaded successfully", "voice": voice_item(entry)}


@router.get("/v1/voices/all-names")
@router.get("/voices/all-names", include_in_schema=False)
def list_voice_names(voices: VoicesDep) -> dict[str, Any]:
    """Every name `voice` takes for a library voice: file names without extension, and aliases."""
    entries = voices.catalog.select(Filters()) if voices.root.is_dir() else []
    names = sorted({e.name.rsplit(".", 1)[0] for e in entries} | {a for e in entries for a in aliases_of(e)})
    return {"voice_names": names, "count": len(names)}


@router.get("/v1/voices/{voice_name}", responses=_ERRORS)
@router.get("/voices/{voice_name}", responses=_ERRORS, include_in_schema=False)
def get_named_voice(voice_name: str, voices: VoicesDep) -> dict[str, Any]:
    """One voice, by name, file name or display name: `{"voice": {...}}`."""
    return {"voice": voice_item(voices.get(voice_name, param="voice_name"))}


@router.get("/v1/voices/{voice_name}/download", response_class=FileResponse, responses=_ERRORS)
@router.get("/voices/{voice_name}/download", response_class=FileResponse, include_in_schema=False)
def download_named_voice(voice_name: str, voices: VoicesDep) -> FileResponse:
    """The voice's audio file, as an attachment."""
    entry = voices.get(voice_name, param="voice_name")
    return FileResponse(voices.root / entry.path, filename=entry.name, content_disposition_type="attachment")


@router.put("/v1/voices/{voice_name}", responses=_ERRORS)
@router.put("/voices/{voice_name}", responses=_ERRORS, include_in_schema=False)
def rename_named_voice(
    voice_name: str,
    voices: VoicesDep,
    new_name: Annotated[str, Form(min_length=1, max_length=100, description="The new name.")],
) -> dict[str, Any]:
    """travisvn's rename: the file becomes `<new_name>.<ext>` (its folder kept); a name taken is a 409."""
    voices.update(voices.get(voice_name, param="voice_name"), VoiceEdit(name=new_name), name_param="new_name")
    return {"message": "Voice renamed successfully", "old_name": voice_name, "new_name": new_name}


@router.delete("/v1/voices/{voice_name}", responses=_ERRORS)
@router.delete("/voices/{voice_name}", responses=_ERRORS, include_in_schema=False)
def delete_named_voice(voice_name: str, voices: VoicesDep) -> dict[str, Any]:
    """travisvn's delete: one voice, named exactly (a name several voices share is a 409)."""
    entry = voices.get(voice_name, param="voice_name")
    voices.catalog.delete([entry], dry_run=False, prune=False)
    return {"message": "Voice deleted successfully", "voice_name": voice_name}
