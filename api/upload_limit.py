"""Refuse an upload whose Content-Length is already over the limit, before its body is read.

The streaming check in ``api/forms.py`` stays the real guard (it also covers chunked bodies
that declare no length); this only spares the server from receiving a body it would refuse.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response

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


class UploadLimitMiddleware:
    """A 413 for a declared Content-Length clearly above ``files * max_upload_mb`` (25% + 1 MB spare)."""

    def __init__(self, app: ASGIApp, max_upload_mb: float) -> None:
        self.app = app
        self.max_upload_mb = max_upload_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (files := allowance(scope["method"], scope["path"])):
            declared = dict(scope["headers"]).get(b"content-length", b"")
            limit_mb = files * self.max_upload_mb * SLACK_FACTOR + FORM_SLACK_MB
            if declared.isdigit() and int(declared) > limit_mb * 2**20:
                message = (
                    f"the request body is {int(declared) / 2**20:.1f} MB; this route takes at most "
                    f"{limit_mb:g} MB ({files} file(s) of limits.max_upload_mb, {self.max_upload_mb:g} MB)"
                )
                response = error_response(
                    413,
                    message,
                    type_="invalid_request_error",
                    code="file_too_large",
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
