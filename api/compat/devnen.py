"""devnen/Chatterbox-TTS-Server's shapes: its voice lists and its multi-file uploads into voices/."""

from __future__ import annotations

from typing import Any

from fastapi import UploadFile
from fastapi.responses import JSONResponse

from api.voice_forms import VoiceFields, store_voice, target_of
from exceptions import ChatterboxError, ConflictError, InvalidRequestError, PayloadTooLargeError
from management.index import Filters
from management.voices.library import VoiceLibrary


class SettingsReadOnlyError(ChatterboxError):
    """devnen's settings routes: the configuration is not written over HTTP here."""

    status_code = 403
    error_type = "permission_error"
    default_code = "settings_read_only"


def display_name(stem: str) -> str:
    """devnen's display names: ``my_voice-2`` -> ``My Voice 2``."""
    words = stem.replace("_", " ").replace("-", " ").split()
    return " ".join(word.capitalize() for word in words) or stem


def predefined_voices(voices: VoiceLibrary) -> list[dict[str, str]]:
    """devnen's voice list: ``[{"display_name", "filename"}]``, every voice in voices/."""
    if not voices.catalog.root.is_dir():
        return []
    found = []
    for entry in voices.catalog.select(Filters()):
        stem = entry.name.rsplit(".", 1)[0]
        name = entry.metadata.get("name")
        found.append(
            {
                "display_name": str(name) if name and name != stem else display_name(stem),
                "filename": entry.path,
            }
        )
    return sorted(found, key=lambda voice: voice["display_name"].lower())


async def store_uploads(
    voices: VoiceLibrary, files: list[UploadFile], max_mb: float
) -> tuple[list[str], list[dict[str, str]]]:
    """Each file into voices/ under its own name (one already there is kept, as devnen does).

    Returns what is in the library now by those names, and an error per file that is not.
    """
    stored: list[str] = []
    errors: list[dict[str, str]] = []
    for upload in files:
        try:
            target = target_of(voices, upload, None, None)
            if not target.exists():
                fields = VoiceFields(None, [], {}, None, overwrite=False)
                await store_voice(voices, upload, target, fields, max_mb=max_mb, param="files")
            stored.append(voices.relative(target))
        except (InvalidRequestError, PayloadTooLargeError, ConflictError) as exc:
            errors.append({"filename": upload.filename or "Unknown", "error": exc.message})
        finally:
            await upload.close()
    return stored, errors


def upload_answer(
    count: int, stored: list[str], errors: list[dict[str, str]], listing: tuple[str, Any], noun: str = "file"
) -> JSONResponse:
    """devnen's answer: 200 when anything was stored (or nothing failed), else 400 with our error too."""
    body: dict[str, Any] = {
        "message": f"Processed {count} {noun}(s).",
        "uploaded_files": stored,
        listing[0]: listing[1],
        "errors": errors,
    }
    if errors and not stored:
        message = f"{errors[0]['filename']}: {errors[0]['error']}"
        error = {
            "message": message,
            "type": "invalid_request_error",
            "param": "files",
            "code": "upload_failed",
        }
        return JSONResponse(body | {"error": error, "detail": message}, status_code=400)
    return JSONResponse(body)
