"""Voice conversion."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import EngineDep
from api.responses import AUDIO_RESPONSES, wav_response
from api_models import ErrorResponse, VCRequest
from core_engine import ConversionRequest

router = APIRouter(prefix="/api/v1", tags=["speech"])


@router.post(
    "/vc",
    response_class=Response,
    responses={
        **AUDIO_RESPONSES,
        400: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
)
async def convert_voice(body: VCRequest, engine: EngineDep) -> Response:
    """Re-voice a clip from vc_inputs/ with a voice from voices/; returns WAV bytes."""
    request = ConversionRequest(
        source=body.input_audio_source,
        target_voice=body.target_voice_source,
        seed=body.seed,
        watermark=None if body.disable_watermark is None else not body.disable_watermark,
    )
    return wav_response(await engine.convert(request))
