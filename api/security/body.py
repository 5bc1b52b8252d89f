"""Every request body is bounded in size and in time, counted while it streams in.

A route that takes uploads may receive ``files * limits.max_upload_mb`` (the table below, with some
slack for the form's other fields); every other route ``security.max_json_kb``. A declared length over
the limit is refused before the body is read. Chunked bodies, which declare no length, are
counted as they arrive and cut at the limit (413). A body that has not fully arrived within
``security.body_timeout_seconds`` is cut with a 408 (a client trickling bytes holds no worker forever).
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.security.responses import BodyError
from config import LimitSettings, SecuritySettings

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UI_UPLOAD = "/ui/gradio_api/upload"
UI_UPLOAD_FILES = 20  # the UI's concatenation takes many files in one upload
ARCHIVE_IMPORT = "/api/v1/voices/import"  # one zip of up to limits.max_archive_mb
FORM_SLACK_MB = 1.0  # the form's text fields and multipart boundaries
SLACK_FACTOR = 1.25  # leave borderline bodies to the exact check, which names the field

# (method, path, path is a prefix) -> how many files of limits.max_upload_mb the body may carry
UPLOAD_ROUTES: dict[tuple[str, str, bool], int] = {
    ("POST", "/api/v1/tts", False): 1,
    ("POST", "/api/v1/vc", False): 2,  # input_audio + target_voice
    ("POST", "/api/v1/vc_input", False): 1,
    ("POST", "/api/v1/concat", False): 20,  # many uploads per request
    ("POST", "/api/v1/concat/mixed", False): 20,
    ("POST", "/api/v1/voice", False): 1,
    ("POST", "/api/v1/voices", False): 20,  # a bulk upload (zip imports have their own limit)
    ("POST", "/api/v1/emotions", True): 4,  # a profile's samples
    ("PUT", "/api/v1/emotions", True): 4,
}


def allowance(method: str, path: str) -> int | None:
    """How many files' worth of bytes this route takes; None for routes that take no uploads."""
    path = path.rstrip("/") or "/"
    for (verb, route, prefix), files in UPLOAD_ROUTES.items():
        if verb == method and (path == route or (prefix and path.startswith(route + "/"))):
            return files
    return None


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
