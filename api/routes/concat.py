"""Concatenation: join outputs, library files, uploads and silences into one new output."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from api.deps import EngineDep
from api.forms import temporary_upload
from api.params import ERRORS, ResponseModeQuery, ReturnFormatQuery
from api.responses import audio_file_response, file_infos, json_wanted
from api_models import ConcatOptionsFields, ConcatRequest, ConcatResponse, MixedConcatRequest
from core.concat import ConcatOptions
from core_engine import ConcatJob, ConcatResult, CoreEngine, ItemSpec
from exceptions import InvalidRequestError

router = APIRouter(prefix="/api/v1", tags=["concatenation"])
_MESSAGE = "Audio concatenation completed successfully"
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"audio/wav": {}, "application/json": {"schema": ConcatResponse.model_json_schema()}},
        "description": "The joined audio (response_mode=stream, the default) or its description (url/json).",
    },
    **ERRORS,
    409: ERRORS[400],
}


@router.post("/concat", response_class=Response, responses=_RESPONSES)
async def concatenate(
    body: ConcatRequest,
    engine: EngineDep,
    response_mode: ResponseModeQuery = None,
    return_format: ReturnFormatQuery = None,
) -> Response:
    """Join files (in outputs/, or `voice:`/`vc_input:` ones) and silences like `(500ms)`, in order."""
    items = tuple(ItemSpec(f"files[{i}]", source=source) for i, source in enumerate(body.files))
    result = await engine.concat(_job(body, items, "concat"))
    return _answer(result, body, engine, response_mode, return_format)


@router.post("/concat/mixed", response_class=Response, responses=_RESPONSES)
async def concatenate_mixed(
    engine: EngineDep,
    request_json: Annotated[
        str,
        Form(
            description="The options of /api/v1/concat as JSON, with `segments` instead of `files`: "
            '`{"type": "server_file", "source": "a.wav"}`, `{"type": "upload", "index": 0}`, '
            '`{"type": "silence", "source": "(500ms)"}`.'
        ),
    ],
    uploaded_files: Annotated[
        list[UploadFile] | None, File(description="Files that `upload` segments name by index.")
    ] = None,
    response_mode: ResponseModeQuery = None,
    return_format: ReturnFormatQuery = None,
) -> Response:
    """Join server files, uploaded files and silences, in the order of `segments`."""
    body = _mixed_body(request_json)
    uploads = uploaded_files or []
    used = {segment.index for segment in body.segments if segment.type == "upload"}
    for i, segment in enumerate(body.segments):
        if segment.type == "upload" and segment.index is not None and segment.index >= len(uploads):
            raise InvalidRequestError(
                f"segments[{i}] names upload {segment.index}, but {len(uploads)} file(s) were uploaded",
                param=f"segments[{i}].index",
            )
    unused = sorted(set(range(len(uploads))) - used)
    if unused:
        raise InvalidRequestError(
            f"uploaded file(s) {unused} are not used by any segment", param="uploaded_files"
        )
    settings = engine.settings
    async with contextlib.AsyncExitStack() as stack:
        saved = [
            await stack.enter_async_context(
                temporary_upload(
                    upload,
                    settings.paths.temp_dir,
                    max_mb=settings.limits.max_upload_mb,
                    param=f"uploaded_files[{n}]",
                )
            )
            for n, upload in enumerate(uploads)
        ]
        items = tuple(
            ItemSpec(
                f"segments[{i}]",
                source=segment.source if segment.type != "upload" else None,
                upload=saved[segment.index]
                if segment.type == "upload" and segment.index is not None
                else None,
                upload_name=uploads[segment.index].filename
                if segment.type == "upload" and segment.index is not None
                else None,
            )
            for i, segment in enumerate(body.segments)
        )
        result = await engine.concat(_job(body, items, "mixed"))
    return _answer(result, body, engine, response_mode, return_format)


def _mixed_body(text: str) -> MixedConcatRequest:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidRequestError(f"request_json is not valid JSON: {exc}", param="request_json") from exc
    try:
        return MixedConcatRequest.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:
            error["loc"] = ("request_json", *error["loc"])
        raise RequestValidationError(errors) from exc


def _job(body: ConcatOptionsFields, items: tuple[ItemSpec, ...], kind: str) -> ConcatJob:
    options = ConcatOptions(
        crossfade_ms=body.crossfade_ms,
        pause_ms=body.pause_duration_ms,
        pause_variation_ms=body.pause_variation_ms,
        seed=body.seed,
        trim=body.trim,
        trim_threshold_ms=body.trim_threshold_ms,
        level=body.normalize_levels,
        normalize=body.normalize,
        normalize_level=body.normalize_level,
        normalize_tp=body.normalize_tp,
    )
    return ConcatJob(
        items=items,
        options=options,
        formats=tuple(body.export_formats),
        project=body.project,
        name=body.output_filename,
        overwrite=body.overwrite,
        kind="mixed" if kind == "mixed" else "concat",
    )


def _answer(
    result: ConcatResult,
    body: ConcatOptionsFields,
    engine: CoreEngine,
    mode: str | None,
    return_format: str | None,
) -> Response:
    if json_wanted(body, mode):
        answer = ConcatResponse(
            message=_MESSAGE,
            output_files=[f.relative for f in result.files],
            files=file_infos(result.files, str(engine.settings.paths.outputs_dir)),
            total_duration_seconds=round(result.duration, 3),
            file_count=result.audio_count,
            silence_count=result.silence_count,
            sample_rate=result.sample_rate,
            seed_used=result.seed,
            processing_time_seconds=round(result.processing_seconds, 3),
            metadata=result.metadata,
        )
        return JSONResponse(answer.model_dump())
    headers = {
        "X-Audio-Duration": f"{result.duration:.3f}",
        "X-Sample-Rate": str(result.sample_rate),
        "X-Seed": str(result.seed),
    }
    return audio_file_response(result.files, body, return_format, headers)
