"""OpenAI's speech API: ``POST /v1/audio/speech``, ``GET /v1/models``, ``GET /v1/audio/voices``.

The audio streams as it is generated: each chunk of text is encoded and sent as soon as the
engine has spoken it (chunked bytes, or SSE events with base64 audio).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from api.compat.speech import ignored_fields, louder, model_of, openai_speech, whole_clip, with_volume
from api.compat.voice_list import voice_entries
from api.deps import EngineDep
from api.streaming import audio_bytes, timed_bytes
from api_models import ErrorResponse, OpenAISpeechRequest
from config import Settings
from core.openai_compat import TTS_ENGINES, Delivery, OpenAISpeech, VoiceChoice, open_stream, speech_request
from core_engine import CoreEngine, SpeechStream
from engines.remote import engine_name
from exceptions import NotFoundError
from utils.audio import encode, get_format

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["openai"])
_STARTED = int(time.time())
_ERRORS = {code: {"model": ErrorResponse} for code in (400, 404, 502, 503)}


@router.post(
    "/audio/speech",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/mpeg": {}, "text/event-stream": {}}}, **_ERRORS},
)
async def create_speech(body: OpenAISpeechRequest, engine: EngineDep) -> Response:
    """Speak `input` (OpenAI's request); the audio streams while later sentences are still generated."""
    headers = {}
    if ignored := ignored_fields(body, engine.settings):
        headers["X-Ignored-Fields"] = ",".join(ignored)
    model, unknown_model = model_of(body, engine.settings)
    if unknown_model:
        headers["X-Model-Ignored"] = unknown_model
    fmt = get_format(body.response_format, param="response_format")
    speech = openai_speech(body, engine, model)
    if body.return_download_link:
        return await _saved(engine, speech, body, headers)
    stream, choice, wanted = await open_stream(engine, speech)
    headers |= _speech_headers(stream.engine, stream.seed, choice, wanted)
    stream = with_volume(stream, body.volume_multiplier)
    if body.stream_format == "sse":
        events = _sse(stream, body.response_format, len(body.input))
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    if not body.stream:  # the whole audio at once: Content-Length, and a WAV header with the exact length
        clip = await whole_clip(stream)
        return Response(encode(clip, fmt), media_type=fmt.content_type, headers=headers)
    return StreamingResponse(
        audio_bytes(stream, body.response_format), media_type=fmt.content_type, headers=headers
    )


def _speech_headers(engine: str, seed: int, choice: VoiceChoice, wanted: Delivery) -> dict[str, str]:
    headers = {"X-Engine": engine, "X-Generation-Seed": str(seed), "X-Voice-Source": choice.source}
    if wanted.understood:
        headers["X-Instructions-Understood"] = ",".join(wanted.understood)
    return headers


async def _saved(
    engine: CoreEngine, speech: OpenAISpeech, body: OpenAISpeechRequest, headers: dict[str, str]
) -> Response:
    """Kokoro's return_download_link: saved in outputs/ first, its path in X-Download-Path."""
    request, choice, wanted = await speech_request(engine, speech)
    result = await engine.synthesize(request)
    headers |= _speech_headers(result.engine, result.seed, choice, wanted)
    headers["X-Download-Path"] = f"/download/{result.files[0].relative}"
    fmt = get_format(body.response_format, param="response_format")
    clip = louder(result.clip, body.volume_multiplier)
    return Response(encode(clip, fmt), media_type=fmt.content_type, headers=headers)


@router.get("/download/{path:path}", include_in_schema=False)
async def download_output(path: str) -> RedirectResponse:
    """Kokoro's download route: the file from outputs/ that X-Download-Path names."""
    return RedirectResponse(f"/outputs/{quote(path)}?download=true", status_code=307)


async def _sse(stream: SpeechStream, fmt: str, input_chars: int) -> AsyncIterator[str]:
    seconds = 0.0
    async for data, duration in timed_bytes(stream, fmt):
        seconds += duration
        if data:
            event = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()}
            yield f"data: {json.dumps(event)}\n\n"
    # Usage in OpenAI's shape; our counts are estimates (about 4 characters a token in, 50 audio
    # tokens a second out), as no tokenizer is involved.
    usage = {"input_tokens": math.ceil(input_chars / 4), "output_tokens": math.ceil(seconds * 50)}
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    yield f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n"


def _remotes(settings: Settings) -> list[str]:
    return [engine_name(name) for name, remote in settings.remotes.items() if remote.enabled]


def _model(model_id: str, owner: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": _STARTED, "owned_by": owner}


@router.get("/models")
async def list_models(engine: EngineDep) -> JSONResponse:
    """OpenAI's model list: the configured OpenAI names and our engine names."""
    names = [*engine.settings.openai.models, *TTS_ENGINES, *_remotes(engine.settings)]
    return JSONResponse(
        {"object": "list", "data": [_model(name, "chatterbox-tts-extended-plus") for name in names]}
    )


@router.get("/models/{model_id}", responses=_ERRORS)
async def get_model(model_id: str, engine: EngineDep) -> JSONResponse:
    """One model object; an unknown one is a 404."""
    known = {*engine.settings.openai.models, *TTS_ENGINES, *_remotes(engine.settings)}
    if model_id not in known:
        raise NotFoundError(f"model {model_id!r} does not exist", param="model", code="model_not_found")
    return JSONResponse(_model(model_id, "chatterbox-tts-extended-plus"))


@router.get("/audio/voices")
async def list_voices(
    engine: EngineDep,
    legacy: Annotated[
        bool, Query(description="Kokoro's older shape: `voices` as a list of names (strings).")
    ] = False,
) -> JSONResponse:
    """Every name `voice` accepts on the serving engine, each with `id` and `name` (Open WebUI reads both)."""
    voices = voice_entries(engine)
    if legacy:
        return JSONResponse({"voices": [voice["id"] for voice in voices]})
    return JSONResponse({"object": "list", "voices": voices})


@router.get("/audio/models")
async def list_audio_models(engine: EngineDep) -> JSONResponse:
    """Open WebUI's model list: `{"models": [{"id", "name"}]}`."""
    names = [*engine.settings.openai.models, *TTS_ENGINES, *_remotes(engine.settings)]
    return JSONResponse({"models": [{"id": name, "name": name} for name in names]})
