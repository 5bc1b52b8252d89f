"""travisvn/chatterbox-tts-api's shapes: its multipart speech form and its voice items."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import File, Form, UploadFile

from api.forms import save_upload
from api_models import OpenAISpeechRequest
from config import Settings
from core_engine import SpeechStream
from exceptions import InvalidRequestError
from management.index import Entry
from management.voices.marks import aliases_of
from parameters import CfgWeight, Exaggeration, Speed, Temperature
from utils.audio import get_format


class SpeechForm:
    """The form of ``/v1/audio/speech/upload`` and ``/v1/audio/speech/stream/upload``, field for field."""

    def __init__(
        self,
        input: Annotated[str, Form(min_length=1, description="The text.")],
        voice: Annotated[
            str | None, Form(description="A voice name (ignored when voice_file is sent).")
        ] = None,
        response_format: Annotated[
            str, Form(description="wav (default), mp3, opus, aac, flac or pcm.")
        ] = "wav",
        speed: Annotated[Speed, Form()] = 1.0,
        exaggeration: Annotated[Exaggeration | None, Form()] = None,
        cfg_weight: Annotated[CfgWeight | None, Form()] = None,
        temperature: Annotated[Temperature | None, Form()] = None,
        streaming_chunk_size: Annotated[int | None, Form(ge=50, le=500)] = None,
        streaming_strategy: Annotated[
            Literal["sentence", "paragraph", "fixed", "word"] | None, Form()
        ] = None,
        streaming_quality: Annotated[Literal["fast", "balanced", "high"] | None, Form()] = None,
        voice_file: Annotated[UploadFile | None, File(description="A reference clip to clone.")] = None,
    ) -> None:
        if not input.strip():
            raise InvalidRequestError("input: must not be blank", param="input")
        self.format = get_format(response_format, param="response_format")
        self.voice_file = voice_file
        self.body = OpenAISpeechRequest(
            input=input,
            voice=voice,
            speed=speed,
            exaggeration=exaggeration,
            cfg_weight=cfg_weight,
            temperature=temperature,
            response_format=self.format.name,
        )


def voice_item(entry: Entry) -> dict[str, Any]:
    """A library voice as travisvn lists it (``name`` is what ``voice`` takes)."""
    return {
        "name": entry.path,
        "display_name": str(entry.metadata.get("name") or entry.name.rsplit(".", 1)[0]),
        "filename": entry.name,
        "original_filename": entry.name,
        "file_extension": entry.name.rsplit(".", 1)[-1],
        "file_size": entry.size,
        "upload_date": str(entry.metadata.get("uploaded_date") or ""),
        "path": entry.path,
        "language": str(entry.metadata.get("language") or "en"),
        "aliases": aliases_of(entry),
        "exists": True,
    }


async def kept_upload(upload: UploadFile | None, settings: Settings) -> Path | None:
    """A streamed answer's uploaded voice, saved (and checked) in temp/ until the stream ends."""
    if upload is None:
        return None
    temp, max_mb = settings.paths.temp_dir, settings.limits.max_upload_mb
    return await save_upload(upload, Path(temp), max_mb=max_mb, param="voice_file")


async def opened_or_removed(opening: Awaitable[SpeechStream], upload: Path | None) -> SpeechStream:
    """The opened stream; the upload is removed when opening fails (no response will remove it)."""
    try:
        return await opening
    except BaseException:
        remove_upload(upload)
        raise


def remove_upload(path: Path | None) -> None:
    """Remove a request's saved upload (a response's background task)."""
    if path is not None:
        path.unlink(missing_ok=True)


async def removed_after(chunks: AsyncIterator[bytes], upload: Path | None) -> AsyncIterator[bytes]:
    """``chunks``, then the upload removed (also when the client leaves mid-stream)."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        remove_upload(upload)
