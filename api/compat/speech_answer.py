"""The answer to an OpenAI-shaped speech request: streamed audio, SSE events, or the whole file."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse

from api.compat.speech import ignored_fields, louder, model_of, openai_speech, whole_clip, with_volume
from api.streaming import audio_bytes, timed_bytes
from api_models import OpenAISpeechRequest
from core.openai_compat import Delivery, OpenAISpeech, VoiceChoice
from core_engine import CoreEngine, SpeechStream
from utils.audio import encode, get_format


async def answer_speech(body: OpenAISpeechRequest, engine: CoreEngine) -> Response:
    """Speak ``body``: streamed (default), as SSE events, whole (``stream: false``) or saved first."""
    headers = {}
    if ignored := ignored_fields(body, engine.settings):
        headers["X-Ignored-Fields"] = ",".join(_header_safe(name) for name in ignored)
    model, unknown_model = model_of(body, engine.settings)
    if unknown_model:
        headers["X-Model-Ignored"] = _header_safe(unknown_model)
    fmt = get_format(body.response_format, param="response_format")
    speech = openai_speech(body, engine, model)
    if body.return_download_link:
        return await _saved(engine, speech, body, headers)
    stream, choice, wanted = await engine.open_openai_stream(speech)
    headers |= _speech_headers(stream.engine, stream.seed, choice, wanted)
    stream = with_volume(stream, body.volume_multiplier)
    if body.stream_format == "sse":
        events = _sse(stream, body.response_format, len(body.input))
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    if not body.stream:  # the whole audio at once: Content-Length, and a WAV header with the exact length
        clip = await whole_clip(stream)
        return Response(encode(clip, fmt), media_type=fmt.content_type, headers=headers)
    return StreamingResponse(
        audio_bytes(stream, body.response_format), media_type=fmt.content_type, headers=headers
    )


def _header_safe(text: str) -> str:
    """A client's text as a header value: non-ASCII and control characters percent-encoded, 200 at most."""
    return quote(text[:200], safe=" !#$&'()*+-./:;<=>?@[]^_`{|}~")


def _speech_headers(engine: str, seed: int, choice: VoiceChoice, wanted: Delivery) -> dict[str, str]:
    headers = {"X-Engine": engine, "X-Generation-Seed": str(seed), "X-Voice-Source": choice.source}
    if wanted.understood:
        headers["X-Instructions-Understood"] = ",".join(wanted.understood)
    return headers


async def _saved(
    engine: CoreEngine, speech: OpenAISpeech, body: OpenAISpeechRequest, headers: dict[str, str]
) -> Response:
    """Kokoro's return_download_link: saved in outputs/ first, its path in X-Download-Path."""
    request, choice, wanted = await engine.openai_request(speech)
    result = await engine.synthesize(request)
    headers |= _speech_headers(result.engine, result.seed, choice, wanted)
    headers["X-Download-Path"] = f"/download/{result.files[0].relative}"
    fmt = get_format(body.response_format, param="response_format")
    clip = louder(result.clip, body.volume_multiplier)
    return Response(encode(clip, fmt), media_type=fmt.content_type, headers=headers)


async def _sse(stream: SpeechStream, fmt: str, input_chars: int) -> AsyncIterator[str]:
    seconds = 0.0
    async for data, duration in timed_bytes(stream, fmt):
        seconds += duration
        if data:
            event = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()}
            yield f"data: {json.dumps(event)}\n\n"
    # Usage in OpenAI's shape; our counts are estimates (about 4 characters a token in, 50 audio
    # tokens a second out), as no tokenizer is involved.
    usage = {"input_tokens": math.ceil(input_chars / 4), "output_tokens": math.ceil(seconds * 50)}
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    yield f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n"
