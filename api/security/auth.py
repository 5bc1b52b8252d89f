"""API keys: ``Authorization: Bearer <key>`` or ``X-API-Key``; the browser UI logs in once for a cookie.

Keys are compared by their SHA-256, so the configuration never has to hold one in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import secrets
from urllib.parse import parse_qs, quote

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.security.responses import unauthorized

logger = logging.getLogger(__name__)

COOKIE = "chatterbox_session"
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
MAX_SESSIONS = 10_000
MAX_LOGIN_BODY = 8192

_FORM = """<!doctype html><html><head><meta charset="utf-8"><title>Chatterbox: log in</title>
<meta name="viewport" content="width=device-width"></head>
<body style="font-family:sans-serif;max-width:24rem;margin:4rem auto">
<h1>Chatterbox TTS</h1><p>This server needs an API key.</p>{error}
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<label>API key <input type="password" name="key" autofocus required style="width:100%"></label>
<p><button type="submit">Log in</button></p></form></body></html>"""


def _safe_next(target: str) -> str:
    """Only a path on this server (no ``//host`` or scheme), so the login cannot redirect elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    return target


class AuthMiddleware:
    """Every route but /health (and /metrics when public) needs a key or a login session."""

    def __init__(self, app: ASGIApp, keys: dict[str, str], public_metrics: bool = False) -> None:
        self.app = app
        self.keys = keys  # sha256 hex -> name
        self.open_paths = {"/health", LOGIN_PATH} | ({"/metrics"} if public_metrics else set())
        self.sessions: dict[str, str] = {}  # cookie value -> key name (lost on restart: log in again)

    def key_name(self, presented: str) -> str | None:
        digest = hashlib.sha256(presented.strip().encode("utf-8", "surrogateescape")).hexdigest()
        for known, name in self.keys.items():
            if hmac.compare_digest(known, digest):
                return name
        return None

    def identify(self, headers: Headers) -> str | None:
        """The key's name, from the headers or the session cookie; None when neither holds a valid key."""
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        presented = token if scheme.lower() == "bearer" else headers.get("x-api-key", "")
        if presented:
            return self.key_name(presented)
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and value in self.sessions:
                return self.sessions[value]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        headers = Headers(scope=scope)
        name = self.identify(headers)
        if scope["type"] == "http" and path == LOGIN_PATH:
            await self.login(scope, receive, send)
            return
        if scope["type"] == "http" and path == LOGOUT_PATH:
            await self.logout(headers)(scope, receive, send)
            return
        if name is not None:
            scope.setdefault("state", {})["api_key"] = name
            await self.app(scope, receive, send)
            return
        if path in self.open_paths:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.refusal(scope, headers)(scope, receive, send)

    def refusal(self, scope: Scope, headers: Headers) -> Response:
        """A browser opening a page is sent to the login form; everything else gets a 401."""
        wants_page = scope["method"] == "GET" and "text/html" in headers.get("accept", "")
        if wants_page:
            target = scope["path"] + (
                f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else ""
            )
            return RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303)
        if headers.get("authorization") or headers.get("x-api-key"):
            return unauthorized("The API key is not valid.")
        return unauthorized(
            "This server needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
        )

    async def login(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GET: the form. POST (form-encoded key, next): a session cookie and a redirect to ``next``."""
        query = parse_qs(scope["query_string"].decode("latin-1"))
        if scope["method"] != "POST":
            target = _safe_next(query.get("next", ["/ui/"])[0])
            await _form(target, "")(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_LOGIN_BODY or not message.get("more_body"):
                break
        fields = parse_qs(body[:MAX_LOGIN_BODY].decode("utf-8", "replace"))
        target = _safe_next(fields.get("next", ["/ui/"])[0])
        name = self.key_name(fields.get("key", [""])[0])
        if name is None:
            logger.warning("failed UI login from %s", (scope.get("client") or ("?",))[0])
            await _form(target, "That key is not valid.", status=401)(scope, receive, send)
            return
        if len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))
        session = secrets.token_urlsafe(32)
        self.sessions[session] = name
        response = RedirectResponse(target, status_code=303)
        secure = scope.get("scheme") == "https"
        response.set_cookie(COOKIE, session, httponly=True, samesite="strict", secure=secure, path="/")
        await response(scope, receive, send)

    def logout(self, headers: Headers) -> Response:
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                self.sessions.pop(value, None)
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response


def _form(target: str, error: str, status: int = 200) -> HTMLResponse:
    shown = f'<p role="alert" style="color:#b00">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(_FORM.format(error=shown, next=html.escape(target, quote=True)), status_code=status)
