"""Reading a body that may be JSON, multipart/form-data (with audio uploads) or a URL-encoded form into one
pydantic model."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile  # what a parsed form holds (FastAPI's subclasses it)

from exceptions import ConflictError, InvalidRequestError, PayloadTooLargeError
from management.library_files import is_audio
from utils.audio import check_usable, decode

M = TypeVar("M", bound=BaseModel)
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
_CHUNK = 1 << 20


async def copy_limited(upload: UploadFile, handle: Any, *, max_mb: float, param: str, setting: str) -> int:
    """Stream an upload into an open file a megabyte at a time: 413 past ``max_mb``, 400 when empty."""
    limit, size = int(max_mb * 2**20), 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"'{param}' is larger than {max_mb:g} MB ({setting})", param=param)
        handle.write(chunk)
    if size == 0:
        raise InvalidRequestError(f"'{param}' is empty", param=param)
    return size


def body_schema(model: type[BaseModel], files: dict[str, str]) -> dict[str, Any]:
    """OpenAPI for a body accepted as JSON, as a multipart form with the same fields plus file uploads, or
    as a URL-encoded form with the same fields."""
    schema = model.model_json_schema()
    form = {**schema, "properties": {**schema["properties"]}, "required": []}
    form.pop("examples", None)  # a JSON body's example is no form: Swagger UI would send it as text
    fields = {**form, "properties": {**form["properties"]}}  # a URL-encoded form: the same, no files
    for name, description in files.items():
        form["properties"][name] = {"type": "string", "format": "binary", "description": description}
    content = {
        "application/json": {"schema": schema},
        "multipart/form-data": {"schema": form},
        "application/x-www-form-urlencoded": {"schema": fields},
    }
    return {"requestBody": {"required": True, "content": content}}


@dataclass(frozen=True)
class FormShape:
    """How a multipart form's plain fields map onto the JSON body: ``lists`` are sent comma-separated
    (``wav,mp3``, as Plus did); ``group`` is an object field that may come as JSON text, and whose keys
    (``group_keys``) may also be sent as plain fields; each file field takes up to ``max_files`` files."""

    lists: tuple[str, ...] = ("export_formats",)
    group: str | None = None
    group_keys: frozenset[str] = frozenset()
    max_files: int = 1


async def read_body(
    request: Request, model: type[M], files: tuple[str, ...], shape: FormShape = FormShape()
) -> tuple[M, dict[str, list[UploadFile]]]:
    """The validated model and the uploads by field, from a JSON body, a multipart form or a URL-encoded
    form (``curl -d text=...``: read as the same fields); bad input raises the usual 400 naming the field.
    An empty JSON body is an empty object."""
    uploads: dict[str, list[UploadFile]] = {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORMS:
        form = await request.form()
        data: Any = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                _form_field(data, key, value, shape)
            elif key in files:
                uploads.setdefault(key, []).append(value)
                if len(uploads[key]) > shape.max_files:
                    raise InvalidRequestError(f"at most {shape.max_files} file(s) in {key!r}", param=key)
            else:
                raise InvalidRequestError(
                    f"unexpected file field {key!r}; files go in: {', '.join(files)}", param=key
                )
    else:
        raw = await request.body()
        data = _json(raw, "body") if raw.strip() else {}
    try:
        return model.model_validate(data), uploads
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


def _form_field(data: dict[str, Any], key: str, value: str, shape: FormShape) -> None:
    if key in shape.lists:
        data.setdefault(key, []).extend(part.strip() for part in value.split(",") if part.strip())
    elif shape.group is not None and key in shape.group_keys:
        data.setdefault(shape.group, {})[key] = value
    elif key == shape.group:
        data[key] = _json(value, key)
    else:
        data[key] = value


def _json(raw: str | bytes, param: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": (param,), "msg": f"JSON decode error: {exc}", "input": None}]
        ) from exc


async def save_upload(
    upload: UploadFile,
    folder: Path,
    *,
    max_mb: float,
    param: str,
    name: str | None = None,
    exists: Literal["rename", "replace", "refuse"] = "rename",
    min_seconds: float = 0.0,
) -> Path:
    """Stream an upload into ``folder`` (under ``name``, or a temporary name), refusing oversize and non-audio.

    A ``name`` already taken is renamed ``_2``, ``_3``... (``rename``), replaced, or refused with
    409 (``refuse``). Audio shorter than ``min_seconds`` is a 400. The file appears whole or not at all.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if name is None:
        fd, temp = tempfile.mkstemp(dir=folder, prefix="upload_", suffix=Path(upload.filename or "").suffix)
    else:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    path = Path(temp)
    try:
        await _write_checked(upload, fd, path, max_mb=max_mb, param=param, min_seconds=min_seconds)
        if name is None:
            return path
        if exists == "replace":
            os.replace(path, folder / name)
            return folder / name
        final = _unique(folder / name) if exists == "rename" else folder / name
        try:
            os.link(path, final)  # never overwrites, even when two uploads race
        except FileExistsError:
            raise ConflictError(
                f"{name!r} already exists; send overwrite=true to replace it", param=param
            ) from None
        except OSError:  # a filesystem without hard links
            if final.exists():
                raise ConflictError(f"{name!r} already exists", param=param) from None
            os.replace(path, final)
            return final
        path.unlink()
        return final
    except BaseException:
        path.unlink(missing_ok=True)
        raise


async def _write_checked(
    upload: UploadFile, fd: int, path: Path, *, max_mb: float, param: str, min_seconds: float = 0.0
) -> None:
    """The upload written whole to an open temporary file (synced), then checked to decode and to last
    at least ``min_seconds``."""
    with os.fdopen(fd, "wb") as handle:
        await copy_limited(upload, handle, max_mb=max_mb, param=param, setting="limits.max_upload_mb")
        handle.flush()
        os.fsync(handle.fileno())
    label = Path(upload.filename or param).name
    clip = decode(path, param=param, label=label)
    check_usable(clip.samples, clip.sample_rate, name=label, param=param, min_seconds=min_seconds)


@contextlib.asynccontextmanager
async def hidden_upload(
    upload: UploadFile, folder: Path, name: str, *, max_mb: float, param: str, min_seconds: float = 0.0
) -> AsyncIterator[Path]:
    """An upload streamed into a hidden ``.<name>.*.part`` in ``folder``, whole and decodable, for a store
    to publish; whatever is left of it afterwards is removed."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    path = Path(temp)
    try:
        await _write_checked(upload, fd, path, max_mb=max_mb, param=param, min_seconds=min_seconds)
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def temporary_upload(
    upload: UploadFile, folder: Path, *, max_mb: float, param: str, min_seconds: float = 0.0
) -> AsyncIterator[Path]:
    """An upload saved (and checked) in ``folder`` for the length of the request, then removed."""
    path = await save_upload(upload, folder, max_mb=max_mb, param=param, min_seconds=min_seconds)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def upload_name(filename: str | None, default: str = "input.wav") -> str:
    """A safe file name for a kept upload: no folders, no leading dot, an audio extension."""
    name = Path((filename or "").replace("\\", "/")).name.lstrip(".").strip() or default
    return name if is_audio(name) else f"{name}.wav"


def _unique(path: Path) -> Path:
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
    return candidate
