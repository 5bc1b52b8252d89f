"""travisvn/chatterbox-tts-api's routes, for its clients (base URL ``http://host:7860/v1``).

Its requests, field for field: ``POST /v1/audio/speech/upload`` and ``/v1/audio/speech/stream/upload``
(multipart, an optional ``voice_file``), ``POST /v1/audio/speech/stream`` (JSON, WAV streamed),
``GET /v1/voices``, ``/v1/languages``, ``/v1/ping`` (also without ``/v1``). Its voice library routes are
in compat_travisvn_voices.py. See docs/clients.md.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from api.compat.languages import language_items
from api.compat.speech import openai_speech, whole_clip
from api.compat.speech_answer import answer_speech
from api.compat.travisvn import (
    SpeechForm,
    kept_upload,
    opened_or_removed,
    remove_upload,
    removed_after,
    voice_item,
)
from api.deps import EngineDep
from api.forms import temporary_upload
from api.params import ERRORS
from api.responses import Responses
from api.streaming import audio_bytes
from api_models import OpenAISpeechRequest
from management.index import Filters
from utils.audio import FORMATS, encode

router = APIRouter(tags=["compat: travisvn"])
_AUDIO: Responses = {200: {"content": {f.content_type: {} for f in FORMATS.values()}}, **ERRORS}


@router.post("/v1/audio/speech/stream", response_class=Response, responses=_AUDIO)
async def stream_speech(body: OpenAISpeechRequest, engine: EngineDep) -> Response:
    """travisvn's streaming route: as /v1/audio/speech, WAV unless `response_format` says otherwise."""
    if "response_format" not in body.model_fields_set:
        body = body.model_copy(update={"response_format": "wav"})
    return await answer_speech(body, engine)


@router.post("/v1/audio/speech/upload", response_class=Response, responses=_AUDIO)
@router.post("/audio/speech/upload", response_class=Response, responses=_AUDIO, include_in_schema=False)
async def speech_with_upload(form: Annotated[SpeechForm, Depends()], engine: EngineDep) -> Response:
    """travisvn's upload route: speak `input` with an uploaded voice (or `voice`); the whole file at once."""
    fmt = form.format
    request, _, _ = await engine.openai_request(openai_speech(form.body, engine, None))
    if form.voice_file is None:
        clip = await whole_clip(await engine.stream(request))
    else:
        settings = engine.settings
        async with temporary_upload(
            form.voice_file, settings.paths.temp_dir, max_mb=settings.limits.max_upload_mb, param="voice_file"
        ) as path:
            request = dataclasses.replace(request, voice=None, voice_file=path)
            clip = await whole_clip(await engine.stream(request))
    headers = {"Content-Disposition": f"attachment; filename=speech.{fmt.extension}"}
    return Response(encode(clip, fmt), media_type=fmt.content_type, headers=headers)


@router.post("/v1/audio/speech/stream/upload", response_class=StreamingResponse, responses=_AUDIO)
@router.post(
    "/audio/speech/stream/upload", response_class=StreamingResponse, responses=_AUDIO, include_in_schema=False
)
async def stream_speech_with_upload(
    form: Annotated[SpeechForm, Depends()], engine: EngineDep
) -> StreamingResponse:
    """travisvn's streaming upload route: as /v1/audio/speech/upload, the audio streamed as it is spoken."""
    request, _, _ = await engine.openai_request(openai_speech(form.body, engine, None))
    upload = await kept_upload(form.voice_file, engine.settings)
    if upload is not None:
        request = dataclasses.replace(request, voice=None, voice_file=upload)
    stream = await opened_or_removed(engine.stream(request), upload)
    headers = {"Content-Disposition": f"attachment; filename=speech_stream.{form.format.extension}"}
    return StreamingResponse(
        removed_after(audio_bytes(stream, form.format.name), upload),
        media_type=form.format.content_type,
        headers=headers | {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(remove_upload, upload),  # also when the stream never started
    )


@router.get("/v1/voices")
@router.get("/voices", include_in_schema=False)
@router.get("/voice-library", include_in_schema=False)
@router.get("/voice_library", include_in_schema=False)
async def list_library_voices(engine: EngineDep) -> dict[str, Any]:
    """travisvn's voice library listing: `{"voices": [{name, filename, ...}], "count"}`."""
    catalog = engine.libraries.voice_library.catalog
    entries = sorted(catalog.select(Filters()), key=lambda entry: entry.path) if catalog.root.is_dir() else []
    voices = [voice_item(entry) for entry in entries]
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
