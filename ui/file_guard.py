"""What the UI's file route may serve: only what Gradio itself cached for a browser.

Gradio serves ``/ui/gradio_api/file=<path>`` from its cache (uploads, and the copies it makes of the
files our handlers return) and also from every ``allowed_paths`` folder directly, hidden files included
(the outputs index, emotion profiles, the conditionals cache). The UI only ever links to the cache, so
anything else is refused here, as are remote URLs (the route would fetch them for the caller).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gradio.utils import get_upload_folder

Scope = dict[str, Any]


class FileRouteGuard:
    """ASGI middleware: a ``file=`` request under ``prefix`` outside Gradio's cache is a 403."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            target = _file_target(scope["path"][len(self.prefix) :])
            if target is not None and not served(target):
                await _forbidden(send)
                return
        await self.app(scope, receive, send)


def _file_target(rest: str) -> str | None:
    """The path a Gradio file route names (``gradio_api/file=...``, ``file=...``, ``gradio_api/file/...``)."""
    for marker in ("file=", "file/"):
        head, found, tail = rest.partition(marker)
        if found and head in ("", "gradio_api/"):
            return tail
    return None


def served(target: str) -> bool:
    """Whether ``target`` is a local file inside Gradio's cache folder (symlinks resolved)."""
    if "://" in target or target.startswith("//"):
        return False
    cache = Path(get_upload_folder()).resolve()
    path = Path(os.path.abspath(target)).resolve()
    return path.is_relative_to(cache) and path != cache


async def _forbidden(send: Any) -> None:
    message = "this file is not served by the UI"
    error = {"message": message, "type": "permission_error", "param": None, "code": "forbidden"}
    body = json.dumps({"error": error, "detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
