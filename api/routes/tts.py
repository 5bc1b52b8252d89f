"""Text to speech."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from api.deps import EngineDep
from api.forms import body_schema, read_body, temporary_upload
from api.params import ERRORS, ResponseModeQuery, ReturnFormatQuery, speech_request
from api.responses import AUDIO_RESPONSES, fallback_header, speech_response
from api.streaming import audio_bytes
from api_models import TTSRequest
from core_engine import CoreEngine
from engines.base import MIN_REFERENCE_SECONDS
from utils.audio import get_format

router = APIRouter(prefix="/api/v1", tags=["speech"])
_FILES = {"reference_audio": "Multipart only: a reference clip to clone (instead of `voice`)."}


@router.post(
    "/tts",
    response_class=Response,
    responses={**AUDIO_RESPONSES, **ERRORS},
    openapi_extra=body_schema(TTSRequest, _FILES),
)
async def create_speech(
    request: Request,
    engine: EngineDep,
    response_mode: ResponseModeQuery = None,
    return_format: ReturnFormatQuery = None,
) -> Response:
    """Speak text (JSON, or multipart with an uploaded voice); saves every export format, streams one."""
    body, uploads = await read_body(request, TTSRequest, tuple(_FILES))
    settings = engine.settings
    if body.stream:
        return await _progressive(engine, body, uploads, return_format)
    async with contextlib.AsyncExitStack() as stack:
        voice_file = None
        if "reference_audio" in uploads:
            voice_file = await stack.enter_async_context(
                temporary_upload(
                    uploads["reference_audio"][0],
                    settings.paths.temp_dir,
                    max_mb=settings.limits.max_upload_mb,
                    param="reference_audio",
                    min_seconds=MIN_REFERENCE_SECONDS,
                )
            )
        result = await engine.synthesize(speech_request(body, voice_file))
    return speech_response(
        result,
        body,
        mode=response_mode,
        return_format=return_format,
        message="TTS generation completed successfully",
        outputs_dir=str(settings.paths.outputs_dir),
    )


async def _progressive(
    engine: CoreEngine, body: TTSRequest, uploads: dict[str, list[UploadFile]], return_format: str | None
) -> StreamingResponse:
    """The audio as it is generated; the uploaded voice is kept until the stream ends."""
    fmt = get_format(return_format or body.export_formats[0], param="return_format")
    stack = contextlib.AsyncExitStack()
    voice_file = None
    if "reference_audio" in uploads:
        voice_file = await stack.enter_async_context(
            temporary_upload(
                uploads["reference_audio"][0],
                engine.settings.paths.temp_dir,
                max_mb=engine.settings.limits.max_upload_mb,
                param="reference_audio",
                min_seconds=MIN_REFERENCE_SECONDS,
            )
        )
    try:
        stream = await engine.stream(speech_request(body, voice_file), save=True)
    except BaseException:
        await stack.aclose()
        raise

    async def body_bytes() -> AsyncIterator[bytes]:
        async with stack:
            async for data in audio_bytes(stream, fmt.name):
                yield data

    headers = {"X-Engine": stream.engine, "X-Generation-Seed": str(stream.seed)}
    headers |= fallback_header(stream.fallback)
    return StreamingResponse(
        body_bytes(), media_type=fmt.content_type, headers=headers, background=BackgroundTask(stack.aclose)
    )
