"""Shaping a speech result into an HTTP response: the audio itself, or JSON describing it."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from fastapi.responses import FileResponse, JSONResponse, Response

from api.library import output_url
from api_models import (
    ChunkInfo,
    OutputFields,
    OutputFileInfo,
    SaveFields,
    SpeechResponse,
    TimestampInfo,
    WordTimestampInfo,
)
from core_engine import OutputFile, OutputOptions, SpeechResult
from exceptions import InvalidRequestError
from utils.audio import PostProcessing

# What a route may answer, for the OpenAPI document (FastAPI's ``responses=``).
Responses = dict[int | str, dict[str, Any]]

AUDIO_RESPONSES: Responses = {
    200: {
        "content": {
            "audio/wav": {},
            "audio/mpeg": {},
            "application/json": {"schema": SpeechResponse.model_json_schema()},
        },
        "description": "The audio (response_mode=stream, the default) or its description (response_mode=url).",
    }
}
_STREAM_MODES = {"stream", "file", "download"}
_JSON_MODES = {"url", "json"}


def output_options(body: OutputFields) -> OutputOptions:
    """The engine's output options from the request's output fields."""
    post = PostProcessing(
        speed_factor=body.speed_factor,
        trim=body.trim,
        trim_threshold_ms=body.trim_threshold_ms,
        normalize=body.normalize_method if body.normalize_audio else None,
        normalize_level=body.normalize_level,
        normalize_true_peak=body.normalize_tp,
        normalize_lra=body.normalize_lra,
        auto_editor=body.use_auto_editor,
        ae_threshold=body.ae_threshold,
        ae_margin=body.ae_margin,
        keep_original=body.use_auto_editor and body.keep_original_wav_ae,
    )
    return OutputOptions(formats=tuple(body.export_formats), project=body.project, post=post)


def json_wanted(body: SaveFields, mode: str | None) -> bool:
    """Whether the answer is JSON (``url``/``json``) rather than the audio; the query wins over the body."""
    chosen_mode = (mode or body.response_mode or "stream").lower()
    if chosen_mode not in _STREAM_MODES | _JSON_MODES:
        raise InvalidRequestError(
            f"response_mode must be one of: {', '.join(sorted(_STREAM_MODES | _JSON_MODES))}",
            param="response_mode",
        )
    return chosen_mode in _JSON_MODES


def audio_file_response(
    files: list[OutputFile], body: SaveFields, return_format: str | None, headers: dict[str, str]
) -> FileResponse:
    """The chosen format's file, with every other format's URL in ``X-Alternative-Formats``."""
    wanted = (return_format or body.return_format or files[0].format).lower()
    chosen = next((f for f in files if f.format == wanted), None)
    if chosen is None:
        raise InvalidRequestError(
            f"return_format {wanted!r} was not produced; export_formats were: {', '.join(f.format for f in files)}",
            param="return_format",
        )
    # Percent-encoded: a header is Latin-1, and a project may be named in any script.
    others = [f"{f.format}:{output_url(f.relative)}" for f in files if f is not chosen]
    if others:
        headers = {**headers, "X-Alternative-Formats": "|".join(others)}
    return FileResponse(
        chosen.path, media_type=chosen.content_type, filename=chosen.path.name, headers=headers
    )


def file_infos(files: list[OutputFile], outputs_dir: str) -> list[OutputFileInfo]:
    """Plus's description of saved files: format, name, URL and server path."""
    return [
        OutputFileInfo(
            format=f.format,
            filename=f.path.name,
            url=f"/outputs/{f.relative}",
            path=str(PurePosixPath(outputs_dir) / f.relative),
        )
        for f in files
    ]


def fallback_header(note: str | None) -> dict[str, str]:
    """``X-Engine-Fallback``: which engine spoke instead of the default, and why (ASCII only)."""
    return {"X-Engine-Fallback": note.encode("ascii", "replace").decode()} if note else {}


def speech_response(
    result: SpeechResult,
    body: OutputFields,
    *,
    mode: str | None,
    return_format: str | None,
    message: str,
    outputs_dir: str,
) -> Response:
    """Stream the chosen file (with the others in ``X-Alternative-Formats``) or answer JSON."""
    if json_wanted(body, mode):
        return JSONResponse(_describe(result, message, outputs_dir).model_dump())
    headers = {
        "X-Engine": result.engine,
        "X-Generation-Seed": str(result.seed),
        "X-Audio-Duration": f"{result.clip.duration:.3f}",
        "X-Sample-Rate": str(result.clip.sample_rate),
    }
    headers |= fallback_header(result.fallback)
    if result.warnings:
        headers["X-Warnings"] = " | ".join(result.warnings).encode("ascii", "replace").decode()
    return audio_file_response(result.files, body, return_format, headers)


def _describe(result: SpeechResult, message: str, outputs_dir: str) -> SpeechResponse:
    return SpeechResponse(
        message=message,
        output_files=file_infos(result.files, outputs_dir),
        generation_seed_used=result.seed,
        processing_time_seconds=round(result.processing_seconds, 3),
        engine=result.engine,
        duration_seconds=round(result.clip.duration, 3),
        sample_rate=result.clip.sample_rate,
        chunks=[ChunkInfo(**report.__dict__) for report in result.chunks],
        warnings=result.warnings,
        timestamps=None
        if result.timestamps is None
        else [TimestampInfo(**piece.__dict__) for piece in result.timestamps],
        words=None if result.words is None else [WordTimestampInfo(**word.__dict__) for word in result.words],
    )
