"""Voice conversion."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import EngineDep
from api.forms import body_schema, read_body, save_upload, temporary_upload, upload_name
from api.params import ERRORS, ResponseModeQuery, ReturnFormatQuery
from api.responses import AUDIO_RESPONSES, output_options, speech_response
from api_models import VCRequest
from core_engine import ConversionRequest
from engines.base import MIN_REFERENCE_SECONDS, MIN_VC_INPUT_SECONDS

router = APIRouter(prefix="/api/v1", tags=["speech"])
_FILES = {
    "input_audio": "Multipart: the clip to re-voice (kept in vc_inputs/ unless save_input=false).",
    "target_voice": "Multipart: the voice to speak with (instead of `target_voice_source`).",
}


@router.post(
    "/vc",
    response_class=Response,
    responses={**AUDIO_RESPONSES, **ERRORS},
    openapi_extra=body_schema(VCRequest, _FILES),
)
async def convert_voice(
    request: Request,
    engine: EngineDep,
    response_mode: ResponseModeQuery = None,
    return_format: ReturnFormatQuery = None,
) -> Response:
    """Re-voice a clip (from vc_inputs/, a URL or an upload) with a voice; saves every export format."""
    body, uploads = await read_body(request, VCRequest, tuple(_FILES))
    settings = engine.settings
    limit = settings.limits.max_upload_mb
    async with contextlib.AsyncExitStack() as stack:
        source_file = target_file = None
        if "input_audio" in uploads:
            upload = uploads["input_audio"][0]
            if body.save_input:  # kept, like a file uploaded to /api/v1/vc_input
                folder = engine.vc_inputs_folder(body.project)
                name = upload_name(upload.filename)
                source_file = await save_upload(
                    upload,
                    folder,
                    max_mb=limit,
                    param="input_audio",
                    name=name,
                    min_seconds=MIN_VC_INPUT_SECONDS,
                )
                engine.libraries.vc_inputs.add(source_file, {"text": None})
            else:
                source_file = await stack.enter_async_context(
                    temporary_upload(
                        upload,
                        settings.paths.temp_dir,
                        max_mb=limit,
                        param="input_audio",
                        min_seconds=MIN_VC_INPUT_SECONDS,
                    )
                )
        if "target_voice" in uploads:
            target_file = await stack.enter_async_context(
                temporary_upload(
                    uploads["target_voice"][0],
                    settings.paths.temp_dir,
                    max_mb=limit,
                    param="target_voice",
                    min_seconds=MIN_REFERENCE_SECONDS,
                )
            )
        result = await engine.convert(
            ConversionRequest(
                source=body.input_audio_source,
                target_voice=body.target_voice_source,
                source_file=source_file,
                target_file=target_file,
                chunk_sec=body.chunk_sec,
                overlap_sec=body.overlap_sec,
                seed=body.seed,
                watermark=None if body.disable_watermark is None else not body.disable_watermark,
                output=output_options(body),
            )
        )
    return speech_response(
        result,
        body,
        mode=response_mode,
        return_format=return_format,
        message="Voice conversion completed successfully",
        outputs_dir=str(settings.paths.outputs_dir),
    )
