"""Mapping every error to one JSON shape, in one place."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from exceptions import ChatterboxError

_HTTP_TYPES = {404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error"}


def error_response(
    status: int,
    message: str,
    *,
    type_: str,
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The one error body: ``{"error": {message, type, param, code}, "detail": message}``."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}, "detail": message}
    return JSONResponse(body, status_code=status, headers=headers)


def internal_error_response(request_id: str) -> JSONResponse:
    """A 500 that hands the user the request id to quote."""
    return error_response(
        500, f"Internal server error (request id {request_id})", type_="server_error", code="internal_error"
    )


def insufficient_storage_response() -> JSONResponse:
    """A 507: the disk (or the user's quota) is full; nothing was saved."""
    return error_response(
        507,
        "the server's disk is full: nothing was saved; free space where outputs/ and voices/ live, then retry",
        type_="server_error",
        code="insufficient_storage",
    )


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the disk or a quota running out: OS and SQLite errors."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.Error) and getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _field_name(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


async def _on_project_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ChatterboxError)
    return error_response(
        exc.status_code,
        exc.message,
        type_=exc.error_type,
        param=exc.param,
        code=exc.code,
        headers=exc.headers,
    )


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    messages = [f"{_field_name(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in errors]
    first = errors[0] if errors else {"loc": (), "type": "invalid"}
    code = "missing_required_parameter" if first["type"] == "missing" else "invalid_value"
    if first["type"] == "json_invalid":
        code = "invalid_json"
    return error_response(
        400,
        "; ".join(messages) or "invalid request",
        type_="invalid_request_error",
        param=_field_name(first["loc"]),
        code=code,
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(
        exc.status_code,
        str(exc.detail),
        type_=_HTTP_TYPES.get(exc.status_code, "invalid_request_error"),
        code=getattr(exc, "code", None),  # security.responses.BodyError names its cause
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping; unexpected exceptions are answered by the request middleware."""
    app.add_exception_handler(ChatterboxError, _on_project_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
