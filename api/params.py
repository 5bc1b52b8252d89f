"""Route parameters shared by several routers: error responses, query overrides, the speech request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Query

from api.responses import Responses, output_options
from api_models import ErrorResponse, TTSRequest
from core.requests import copy_controls
from core_engine import SpeechRequest, ValidationOptions
from utils.text import TextOptions

ERRORS: Responses = {code: {"model": ErrorResponse} for code in (400, 404, 413, 503)}
ResponseModeQuery = Annotated[
    str | None,
    Query(description="`stream` (default) returns the audio; `url`/`json` returns JSON. Wins over the body."),
]
ReturnFormatQuery = Annotated[
    str | None, Query(description="Which export format to stream. Wins over the body.")
]


def speech_request(body: TTSRequest, voice_file: Path | None) -> SpeechRequest:
    """The engine's speech request from a TTS body (and an uploaded voice file, if any)."""
    return SpeechRequest(
        text=body.text,
        engine=body.engine,
        voice=body.voice,
        voice_file=voice_file,
        **copy_controls(body, SpeechRequest),
        watermark=None if body.disable_watermark is None else not body.disable_watermark,
        language=body.language,
        timestamps=bool(body.timestamps),
        word_timestamps=body.timestamps == "word",
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
