"""Text to speech."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import EngineDep
from api.forms import body_schema, read_body, temporary_upload
from api.responses import AUDIO_RESPONSES, output_options, speech_response
from api_models import ErrorResponse, TTSRequest
from core_engine import SpeechRequest, ValidationOptions
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
