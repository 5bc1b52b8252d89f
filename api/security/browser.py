"""Browser safety: a page on another site cannot drive the server, and DNS rebinding is refused.

- ``Host`` must name this server: a loopback name, an IP address (a rebinding attack always arrives
  under the attacker's domain name), ``server.host`` or ``security.allowed_hosts``.
- A state-changing request (POST, PUT, PATCH, DELETE) from a browser must come from this server's own
  origin or one of ``security.cors_origins``: its ``Origin`` header is checked, and without one
  ``Sec-Fetch-Site``. Clients that send neither (curl, SDKs) are not browsers and pass.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response
from api.security.responses import forbidden
from config import Settings

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost", "ip6-loopback"}
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def split_host(value: str) -> tuple[str, int | None]:
    """``Host`` header -> (lower-case name without brackets, port or None)."""
    parsed = urlsplit(f"//{value.strip()}")
    try:
        port = parsed.port
    except ValueError:
        port = None
    return (parsed.hostname or "").lower(), port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class BrowserGuardMiddleware:
    """403 for cross-site state changes, 400 for a Host this server does not answer to."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        security = settings.security
        self.any_host = "*" in security.allowed_hosts
        self.hosts = (
            LOOPBACK_NAMES | {settings.server.host.lower()} | {h.lower() for h in security.allowed_hosts}
        )
        self.any_origin = "*" in security.cors_origins
        self.origins = set(security.cors_origins)

    def host_allowed(self, host: str) -> bool:
        name, _ = split_host(host)
        return self.any_host or _is_ip(name) or name in self.hosts

    def same_origin(self, origin: str, host: str, scheme: str) -> bool:
        """Whether ``Origin`` is this server as the browser reached it (scheme may differ behind a proxy)."""
        parsed = urlsplit(origin)
        try:
            origin_port = parsed.port or DEFAULT_PORTS.get(parsed.scheme)
        except ValueError:
            return False
        name, port = split_host(host)
        return (parsed.hostname or "").lower() == name and origin_port == (port or DEFAULT_PORTS.get(scheme))

    def cross_site_reason(self, scope: Scope, headers: Headers) -> str | None:
        origin = headers.get("origin")
        if origin is not None:
            origin = origin.strip().rstrip("/").lower()
            if self.any_origin or origin in self.origins:
                return None
            if origin != "null" and self.same_origin(
                origin, headers.get("host", ""), scope.get("scheme", "http")
            ):
                return None
            return f"Origin {origin}"
        fetch_site = headers.get("sec-fetch-site", "").lower()
        if fetch_site in ("", "same-origin", "none"):
            return None
        return f"Sec-Fetch-Site: {fetch_site}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not self.host_allowed(host):
            response = error_response(
                400,
                f"Host {host!r} is not a name of this server; add it to security.allowed_hosts "
                "(a guard against DNS rebinding)",
                type_="invalid_request_error",
                code="host_not_allowed",
            )
        elif (scope["type"] == "websocket" or scope["method"] not in SAFE_METHODS) and (
            reason := self.cross_site_reason(scope, headers)
        ):
            response = forbidden(
                f"Cross-site request refused ({reason}): a page from another site may not change anything "
                "here; add its origin to security.cors_origins to allow it",
                code="cross_site_request",
            )
        else:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await response(scope, receive, send)
