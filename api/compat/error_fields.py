"""Error answers: each is recorded (``/api/v1/errors/*``), and Plus's fields are added when asked.

Plus's fields (``success: false``, ``error_code``, ``timestamp``) are added for every request with
``compat.error_fields``, or per request with ``?compat=plus`` or the header ``X-Compat: plus``. Our body
keeps its ``error`` object and ``detail`` string; scripts that test ``success`` or ``error_code`` keep
working. A pure ASGI middleware: only JSON error answers (small) are held; audio passes untouched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitoring.errors import ErrorLog

# Plus's codes by status (its custom exceptions); other statuses use our code, upper-cased.
PLUS_CODES = {
    400: "VALIDATION_ERROR",
    404: "RESOURCE_NOT_FOUND",
    409: "FILE_EXISTS",
    413: "FILE_TOO_LARGE",
    500: "INTERNAL_ERROR",
    503: "MODEL_LOAD_ERROR",
}


def plus_fields(body: dict[str, Any], status: int) -> dict[str, Any]:
    """``body`` with Plus's fields added (ours untouched)."""
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    code = PLUS_CODES.get(status) or str(error.get("code") or error.get("type") or "ERROR").upper()
    timestamp = datetime.now(UTC).isoformat()
    return {**body, "success": False, "error_code": code, "timestamp": timestamp}


def wanted(scope: Scope, always: bool) -> bool:
    """Whether this request asks for Plus's fields."""
    if always:
        return True
    headers = dict(scope.get("headers") or [])
    if headers.get(b"x-compat", b"").decode("latin-1").strip().lower() == "plus":
        return True
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return "plus" in [value.lower() for value in query.get("compat", [])]


class ErrorAnswersMiddleware:
    """Records JSON error answers in ``errors``; adds Plus's fields to them when asked."""

    def __init__(self, app: ASGIApp, *, errors: ErrorLog, always: bool = False) -> None:
        self.app = app
        self.errors = errors
        self.always = always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        plus = wanted(scope, self.always)
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                is_json = headers.get(b"content-type", b"").startswith(b"application/json")
                if message["status"] >= 400 and is_json:
                    start = message  # held until the whole (small) body is here
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            raw = b"".join(chunks)
            body = _json(raw)
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                self._record(scope, start, body["error"])
                if plus:
                    raw = json.dumps(plus_fields(body, start["status"])).encode()
            await _send_whole(send, start, raw)

        await self.app(scope, receive, rewrite)

    def _record(self, scope: Scope, start: Message, error: dict[str, Any]) -> None:
        headers = dict(start.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1") or None
        self.errors.record(
            method=scope["method"],
            path=scope["path"],
            status=start["status"],
            error=error,
            request_id=request_id,
        )


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def _send_whole(send: Send, start: Message, raw: bytes) -> None:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(raw)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
