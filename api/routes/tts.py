"""Text to speech."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import EngineDep
from api.responses import AUDIO_RESPONSES, output_options, speech_response
from api_models import ErrorResponse, TTSRequest
from core_engine import SpeechRequest, ValidationOptions
from utils.text import TextOptions

router = APIRouter(prefix="/api/v1", tags=["speech"])
_ERRORS = {code: {"model": ErrorResponse} for code in (400, 404, 503)}

ResponseModeQuery = Annotated[
    str | None,
    Query(description="`stream` (default) returns the audio; `url`/`json` returns JSON. Wins over the body."),
]
ReturnFormatQuery = Annotated[
    str | None, Query(description="Which export format to stream. Wins over the body.")
]


@router.post("/tts", response_class=Response, responses={**AUDIO_RESPONSES, **_ERRORS})
async def create_speech(
    body: TTSRequest,
    engine: EngineDep,
    response_mode: ResponseModeQuery = None,
    return_format: ReturnFormatQuery = None,
) -> Response:
    """Speak text; saves every export format in outputs/ and streams one (or answers JSON)."""
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
    result = await engine.synthesize(request)
    return speech_response(
        result,
        body,
        mode=response_mode,
        return_format=return_format,
        message="TTS generation completed successfully",
        outputs_dir=str(engine.settings.paths.outputs_dir),
    )
