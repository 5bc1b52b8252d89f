"""Per request: an id (echoed in X-Request-ID), one JSON access-log line, metrics, and the 500 answer."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import disk_full, insufficient_storage_response, internal_error_response
from monitoring.logs import request_id_var
from monitoring.metrics import Metrics

logger = logging.getLogger("chatterbox.access")
error_logger = logging.getLogger("chatterbox.errors")


class RequestContextMiddleware:
    """Pure ASGI middleware, so streamed responses pass through untouched."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming[:128] if incoming.strip() else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status, started_response = 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if disk_full(exc):  # not a bug: the operator has to free space
                error_logger.error("disk full on %s %s: %s", scope["method"], scope["path"], exc)
                answer = insufficient_storage_response()
            else:
                error_logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
                answer = internal_error_response(request_id)
            if not started_response:
                await answer(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], route, status, seconds)
            logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            request_id_var.reset(token)
