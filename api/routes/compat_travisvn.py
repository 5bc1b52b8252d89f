"""travisvn/chatterbox-tts-api's routes, for its clients (base URL ``http://host:7860/v1``).

Its requests, field for field: ``POST /v1/audio/speech/upload`` (multipart, an optional ``voice_file``),
``POST /v1/audio/speech/stream`` (JSON, WAV streamed), ``GET /v1/voices``, ``/v1/languages``, ``/v1/ping``
(also without ``/v1``). See docs/clients.md.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from api.compat.languages import language_items
from api.compat.speech import openai_speech, whole_clip
from api.compat.speech_answer import answer_speech
from api.deps import EngineDep
from api.forms import temporary_upload
from api.params import ERRORS
from api.responses import Responses
from api_models import OpenAISpeechRequest
from exceptions import InvalidRequestError
from management.index import Filters
from parameters import CfgWeight, Exaggeration, Speed, Temperature
from utils.audio import FORMATS, encode, get_format

router = APIRouter(tags=["compat: travisvn"])
_AUDIO: Responses = {200: {"content": {f.content_type: {} for f in FORMATS.values()}}, **ERRORS}


@router.post("/v1/audio/speech/stream", response_class=Response, responses=_AUDIO)
async def stream_speech(body: OpenAISpeechRequest, engine: EngineDep) -> Response:
    """travisvn's streaming route: as /v1/audio/speech, WAV unless `response_format` says otherwise."""
    if "response_format" not in body.model_fields_set:
        body = body.model_copy(update={"response_format": "wav"})
    return await answer_speech(body, engine)


@router.post("/v1/audio/speech/upload", response_class=Response, responses=_AUDIO)
async def speech_with_upload(
    engine: EngineDep,
    input: Annotated[str, Form(min_length=1, description="The text.")],
    voice: Annotated[str | None, Form(description="A voice name (ignored when voice_file is sent).")] = None,
    response_format: Annotated[str, Form(description="wav (default), mp3, opus, aac, flac or pcm.")] = "wav",
    speed: Annotated[Speed, Form()] = 1.0,
    exaggeration: Annotated[Exaggeration | None, Form()] = None,
    cfg_weight: Annotated[CfgWeight | None, Form()] = None,
    temperature: Annotated[Temperature | None, Form()] = None,
    streaming_chunk_size: Annotated[int | None, Form(ge=50, le=500)] = None,
    streaming_strategy: Annotated[Literal["sentence", "paragraph", "fixed", "word"] | None, Form()] = None,
    streaming_quality: Annotated[Literal["fast", "balanced", "high"] | None, Form()] = None,
    voice_file: Annotated[UploadFile | None, File(description="A reference clip to clone.")] = None,
) -> Response:
    """travisvn's upload route: speak `input` with an uploaded voice; the whole WAV at once."""
    fmt = get_format(response_format, param="response_format")
    if not input.strip():
        raise InvalidRequestError("input: must not be blank", param="input")
    fields = {"input": input, "voice": voice, "speed": speed, "exaggeration": exaggeration}
    body = OpenAISpeechRequest(**fields, cfg_weight=cfg_weight, temperature=temperature)
    request, _, _ = await engine.openai_request(openai_speech(body, engine, None))
    settings = engine.settings
    if voice_file is None:
        clip = await whole_clip(await engine.stream(request))
    else:
        async with temporary_upload(
            voice_file, settings.paths.temp_dir, max_mb=settings.limits.max_upload_mb, param="voice_file"
        ) as path:
            request = dataclasses.replace(request, voice=None, voice_file=path)
            clip = await whole_clip(await engine.stream(request))
    headers = {"Content-Disposition": f"attachment; filename=speech.{fmt.extension}"}
    return Response(encode(clip, fmt), media_type=fmt.content_type, headers=headers)


@router.get("/v1/voices")
@router.get("/voices", include_in_schema=False)
async def list_library_voices(engine: EngineDep) -> dict[str, Any]:
    """travisvn's voice library listing: `{"voices": [{name, filename, ...}], "count"}`."""
    catalog = engine.libraries.voice_library.catalog
    entries = sorted(catalog.select(Filters()), key=lambda entry: entry.path) if catalog.root.is_dir() else []
    voices = [
        {
            "name": entry.path,  # what `voice` takes
            "display_name": str(entry.metadata.get("name") or entry.name.rsplit(".", 1)[0]),
            "filename": entry.name,
            "original_filename": entry.name,
            "file_extension": entry.name.rsplit(".", 1)[-1],
            "file_size": entry.size,
            "upload_date": str(entry.metadata.get("uploaded_date") or ""),
            "path": entry.path,
            "language": str(entry.metadata.get("language") or "en"),
            "aliases": [],
            "exists": True,
        }
        for entry in entries
    ]
    return {"voices": voices, "count": len(voices)}


@router.get("/v1/languages")
@router.get("/languages", include_in_schema=False)
async def list_languages(engine: EngineDep) -> dict[str, Any]:
    """travisvn's language list: what the serving engine speaks, `{"languages": [{code, name}], ...}`."""
    languages = language_items(engine)
    kind = "multilingual" if len(languages) > 1 else "standard"
    return {"languages": languages, "count": len(languages), "model_type": kind}


@router.get("/v1/ping")
@router.get("/ping", include_in_schema=False)
async def ping() -> dict[str, str]:
    """Answers at once, whatever the engines are doing."""
    return {"status": "ok", "message": "Server is running"}
