"""Voice conversion."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import EngineDep
from api.responses import AUDIO_RESPONSES, output_options, speech_response
from api.routes.tts import ResponseModeQuery, ReturnFormatQuery
from api_models import ErrorResponse, VCRequest
from core_engine import ConversionRequest

router = APIRouter(prefix="/api/v1", tags=["speech"])
_ERRORS = {code: {"model": ErrorResponse} for code in (400, 404, 503)}


@router.post("/vc", response_class=Response, responses={**AUDIO_RESPONSES, **_ERRORS})
async def convert_voice(
    body: VCRequest,
    engine: EngineDep,
    response_mode: ResponseModeQuery = None,
    return_format: ReturnFormatQuery = None,
) -> Response:
    """Re-voice a clip from vc_inputs/ with a voice from voices/; saves every export format."""
    request = ConversionRequest(
        source=body.input_audio_source,
        target_voice=body.target_voice_source,
        seed=body.seed,
        watermark=None if body.disable_watermark is None else not body.disable_watermark,
        output=output_options(body),
    )
    result = await engine.convert(request)
    return speech_response(
        result,
        body,
        mode=response_mode,
        return_format=return_format,
        message="Voice conversion completed successfully",
        outputs_dir=str(engine.settings.paths.outputs_dir),
    )
