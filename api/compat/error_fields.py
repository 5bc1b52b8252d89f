"""Plus's error fields (``success: false``, ``error_code``, ``timestamp``) added to our error body.

On for every request with ``compat.error_fields``, or per request with ``?compat=plus`` or the header
``X-Compat: plus``. Our body keeps its ``error`` object and ``detail`` string; scripts that test
``success`` or ``error_code`` keep working. A pure ASGI middleware, so streamed answers pass untouched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
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


class PlusErrorFieldsMiddleware:
    """Adds Plus's fields to JSON error answers when asked."""

    def __init__(self, app: ASGIApp, *, always: bool = False) -> None:
        self.app = app
        self.always = always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not wanted(scope, self.always):
            await self.app(scope, receive, send)
            return
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
            await _send_rewritten(send, start, b"".join(chunks))

        await self.app(scope, receive, rewrite)


async def _send_rewritten(send: Send, start: Message, raw: bytes) -> None:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict):
        raw = json.dumps(plus_fields(body, start["status"])).encode()
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(raw)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
