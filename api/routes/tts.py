"""Text to speech."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from api.deps import EngineDep
from api.forms import body_schema, read_body, temporary_upload
from api.responses import AUDIO_RESPONSES, output_options, speech_response
from api.streaming import audio_bytes
from api_models import ErrorResponse, TTSRequest
from core_engine import CoreEngine, SpeechRequest, ValidationOptions
from utils.audio import get_format
from utils.text import TextOptions

router = APIRouter(prefix="/api/v1", tags=["speech"])
ERRORS = {code: {"model": ErrorResponse} for code in (400, 404, 413, 503)}
ResponseModeQuery = Annotated[
    str | None,
    Query(description="`stream` (default) returns the audio; `url`/`json` returns JSON. Wins over the body."),
]
ReturnFormatQuery = Annotated[
    str | None, Query(description="Which export format to stream. Wins over the body.")
]
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
                    uploads["reference_audio"],
                    settings.paths.temp_dir,
                    max_mb=settings.limits.max_upload_mb,
                    param="reference_audio",
                )
            )
        result = await engine.synthesize(_speech_request(body, voice_file))
    return speech_response(
        result,
        body,
        mode=response_mode,
        return_format=return_format,
        message="TTS generation completed successfully",
        outputs_dir=str(settings.paths.outputs_dir),
    )


async def _progressive(
    engine: CoreEngine, body: TTSRequest, uploads: dict[str, UploadFile], return_format: str | None
) -> StreamingResponse:
    """The audio as it is generated; the uploaded voice is kept until the stream ends."""
    fmt = get_format(return_format or body.export_formats[0], param="return_format")
    stack = contextlib.AsyncExitStack()
    voice_file = None
    if "reference_audio" in uploads:
        voice_file = await stack.enter_async_context(
            temporary_upload(
                uploads["reference_audio"],
                engine.settings.paths.temp_dir,
                max_mb=engine.settings.limits.max_upload_mb,
                param="reference_audio",
            )
        )
    try:
        stream = await engine.stream(_speech_request(body, voice_file), save=True)
    except BaseException:
        await stack.aclose()
        raise

    async def body_bytes() -> AsyncIterator[bytes]:
        async with stack:
            async for data in audio_bytes(stream, fmt.name):
                yield data

    headers = {"X-Engine": stream.engine, "X-Generation-Seed": str(stream.seed)}
    return StreamingResponse(
        body_bytes(), media_type=fmt.content_type, headers=headers, background=BackgroundTask(stack.aclose)
    )


def _speech_request(body: TTSRequest, voice_file: Path | None) -> SpeechRequest:
    return SpeechRequest(
        text=body.text,
        engine=body.engine,
        voice=body.voice,
        voice_file=voice_file,
        exaggeration=body.exaggeration,
        cfg_weight=body.cfg_weight,
        temperature=body.temperature,
        repetition_penalty=body.repetition_penalty,
        min_p=body.min_p,
        top_p=body.top_p,
        top_k=body.top_k,
        seed=body.seed,
        watermark=None if body.disable_watermark is None else not body.disable_watermark,
        language=body.language,
        timestamps=body.timestamps,
        output=output_options(body),
        text_options=TextOptions(
            to_lowercase=body.to_lowercase,
            normalize_spacing=body.normalize_spacing,
            fix_dot_letters=body.fix_dot_letters,
            remove_reference_numbers=body.remove_reference_numbers,
            sound_words=body.sound_words_field,
            enable_batching=body.enable_batching,
            smart_batch_short_sentences=body.smart_batch_short_sentences,
        ),
        validation=ValidationOptions(
            bypass=body.bypass_whisper_checking,
            candidates=body.num_candidates_per_chunk,
            attempts=body.max_attempts_per_candidate,
            whisper_model=body.whisper_model_name,
            longest_on_fail=body.use_longest_transcript_on_fail,
        ),
    )
