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
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import EngineDep
from api.streaming import audio_bytes, timed_bytes
from api_models import ErrorResponse, OpenAISpeechRequest
from config import OPENAI_VOICES, TTS_ENGINES, Settings
from core.openai_compat import OpenAISpeech
from core_engine import SpeechStream
from engines.remote import engine_name
from exceptions import NotFoundError
from utils.audio import get_format

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["openai"])
_STARTED = int(time.time())
_ERRORS = {code: {"model": ErrorResponse} for code in (400, 404, 502, 503)}


@router.post(
    "/audio/speech",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/mpeg": {}, "text/event-stream": {}}}, **_ERRORS},
)
async def create_speech(body: OpenAISpeechRequest, engine: EngineDep) -> StreamingResponse:
    """Speak `input` (OpenAI's request); the audio streams while later sentences are still generated."""
    voice = body.voice if isinstance(body.voice, str) else body.voice.id
    speech = OpenAISpeech(
        model=body.model,
        input=body.input,
        voice=voice,
        instructions=body.instructions,
        speed=body.speed,
        exaggeration=body.exaggeration,
        cfg_weight=body.cfg_weight,
        temperature=body.temperature,
        seed=body.seed,
        language=body.language,
    )
    stream, choice, wanted = await engine.open_openai_stream(speech)
    headers = {
        "X-Engine": stream.engine,
        "X-Generation-Seed": str(stream.seed),
        "X-Voice-Source": choice.source,
    }
    if wanted.understood:
        headers["X-Instructions-Understood"] = ",".join(wanted.understood)
    fmt = get_format(body.response_format, param="response_format")
    if body.stream_format == "sse":
        events = _sse(stream, body.response_format, len(body.input))
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    return StreamingResponse(
        audio_bytes(stream, body.response_format), media_type=fmt.content_type, headers=headers
    )


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
async def list_voices(engine: EngineDep) -> JSONResponse:
    """Every name `voice` accepts: OpenAI's (and what each maps to), aliases, library voices, emotion profiles."""
    settings = engine.settings.openai
    voices = [
        {"id": name, "source": "openai", "speaks_with": settings.voices.get(name) or settings.fallback_voice}
        for name in OPENAI_VOICES
    ]
    voices += [
        {"id": alias, "source": "alias", "speaks_with": target}
        for alias, target in settings.voices.items()
        if alias not in OPENAI_VOICES
    ]
    voices += [{"id": name, "source": "library", "speaks_with": None} for name in engine.voices.names()]
    voices += [
        {"id": f"emotion:{p.id}", "source": "emotion", "speaks_with": p.samples[0]}
        for p in engine.emotions.list()
    ]
    return JSONResponse({"object": "list", "voices": voices})
