"""OpenAI's speech API: ``POST /v1/audio/speech``, ``GET /v1/models``, ``GET /v1/audio/voices``.

The audio streams as it is generated: each chunk of text is encoded and sent as soon as the
engine has spoken it (chunked bytes, or SSE events with base64 audio).
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from api.compat.speech_answer import answer_speech
from api.compat.voice_list import voice_entries
from api.deps import EngineDep
from api.responses import Responses
from api_models import ErrorResponse, OpenAISpeechRequest
from config import TTS_ENGINES, Settings
from engines.remote import engine_name
from exceptions import NotFoundError
from utils.audio import FORMATS

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["openai"])
_STARTED = int(time.time())
_ERRORS: Responses = {code: {"model": ErrorResponse} for code in (400, 404, 502, 503)}
_AUDIO_TYPES: dict[str, Any] = {"audio/mpeg": {}} | {f.content_type: {} for f in FORMATS.values()}


@router.post(
    "/audio/speech",
    response_class=StreamingResponse,
    responses={200: {"content": {**_AUDIO_TYPES, "text/event-stream": {}}}, **_ERRORS},
)
async def create_speech(body: OpenAISpeechRequest, engine: EngineDep) -> Response:
    """Speak `input` (OpenAI's request); the audio streams while later sentences are still generated."""
    return await answer_speech(body, engine)


@router.get("/download/{path:path}", include_in_schema=False)
async def download_output(path: str) -> RedirectResponse:
    """Kokoro's download route: the file from outputs/ that X-Download-Path names."""
    return RedirectResponse(f"/outputs/{quote(path)}?download=true", status_code=307)


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
