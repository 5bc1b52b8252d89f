"""Shaping generated audio into an HTTP response."""

from __future__ import annotations

from fastapi.responses import Response

from core_engine import SpeechResult

AUDIO_RESPONSES = {200: {"content": {"audio/wav": {}}, "description": "The generated audio (16-bit WAV)."}}


def wav_response(result: SpeechResult) -> Response:
    """The WAV bytes, named like the saved file, with how they were made in headers."""
    return Response(
        content=result.wav,
        media_type="audio/wav",
        headers={
            "Content-Disposition": f'attachment; filename="{result.output_path.name}"',
            "X-Engine": result.engine,
            "X-Generation-Seed": str(result.seed),
            "X-Audio-Duration": f"{result.clip.duration:.3f}",
            "X-Sample-Rate": str(result.clip.sample_rate),
        },
    )
