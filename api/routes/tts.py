"""Text to speech."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import EngineDep
from api.responses import AUDIO_RESPONSES, wav_response
from api_models import ErrorResponse, TTSRequest
from core_engine import SpeechRequest

router = APIRouter(prefix="/api/v1", tags=["speech"])


@router.post(
    "/tts",
    response_class=Response,
    responses={
        **AUDIO_RESPONSES,
        400: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
)
async def create_speech(body: TTSRequest, engine: EngineDep) -> Response:
    """Speak text; returns WAV bytes and saves a copy in outputs/."""
    request = SpeechRequest(
        text=body.text,
        engine=body.engine,
        voice=body.voice,
        exaggeration=body.exaggeration,
        cfg_weight=body.cfg_weight,
        temperature=body.temperature,
        repetition_penalty=body.repetition_penalty,
        min_p=body.min_p,
        top_p=body.top_p,
        seed=body.seed,
        watermark=None if body.disable_watermark is None else not body.disable_watermark,
    )
    return wav_response(await engine.synthesize(request))
