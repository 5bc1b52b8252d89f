"""Every request body is bounded in size and in time, counted while it streams in.

A route that takes uploads may receive ``files * limits.max_upload_mb`` (as ``api/upload_limit.py``
computes it); every other route ``security.max_json_kb``. Chunked bodies, which declare no length, are
counted as they arrive and cut at the limit (413). A body that has not fully arrived within
``security.body_timeout_seconds`` is cut with a 408 (a client trickling bytes holds no worker forever).
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.security.responses import BodyError
from api.upload_limit import FORM_SLACK_MB, SLACK_FACTOR, allowance
from config import LimitSettings, SecuritySettings

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UI_UPLOAD = "/ui/gradio_api/upload"
UI_UPLOAD_FILES = 20  # the UI's concatenation takes many files in one upload
ARCHIVE_IMPORT = "/api/v1/voices/import"  # one zip of up to limits.max_archive_mb


class BodyLimitMiddleware:
    """Counts the body while the app reads it; raises :class:`BodyError` past the size or the time."""

    def __init__(self, app: ASGIApp, limits: LimitSettings, security: SecuritySettings) -> None:
        self.app = app
        self.upload_mb = limits.max_upload_mb
        self.archive_mb = limits.max_archive_mb
        self.json_bytes = int(security.max_json_kb * 1024)
        self.timeout = security.body_timeout_seconds

    def limit(self, method: str, path: str) -> tuple[int, str, str]:
        """The byte limit for this route, the setting that sets it, and the error code past it.

        Upload routes answer ``file_too_large``, as the upload checks always have; JSON ``body_too_large``.
        """
        if method == "POST" and path.rstrip("/") == ARCHIVE_IMPORT:
            mb = self.archive_mb * SLACK_FACTOR + FORM_SLACK_MB
            return int(mb * 2**20), f"{mb:g} MB: limits.max_archive_mb", "file_too_large"
        files = UI_UPLOAD_FILES if path.rstrip("/") == UI_UPLOAD else allowance(method, path)
        if files:
            mb = files * self.upload_mb * SLACK_FACTOR + FORM_SLACK_MB
            return int(mb * 2**20), f"{mb:g} MB: {files} file(s) of limits.max_upload_mb", "file_too_large"
        return self.json_bytes, f"{self.json_bytes / 1024:g} KB: security.max_json_kb", "body_too_large"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit, setting, code = self.limit(scope["method"], scope["path"])
        too_large = BodyError(413, f"The request body is larger than this route takes ({setting})", code)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await too_large.response()(scope, receive, send)
            return
        deadline = time.monotonic() + self.timeout
        received, complete = 0, False

        async def bounded_receive() -> Message:
            nonlocal received, complete
            if complete:  # after the body, receive() only waits for a disconnect: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise BodyError(
                    408,
                    f"The request body did not arrive within {self.timeout:g} s (security.body_timeout_seconds)",
                    "body_timeout",
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    raise too_large
            else:
                complete = True
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyError as error:
            if started:
                raise
            await error.response()(scope, receive, send)
