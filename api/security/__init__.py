"""HTTP access security: API keys, browser-origin and Host checks, rate limit, request body bounds.

Each piece is a pure ASGI middleware, so streamed responses and the mounted UI pass through untouched.
"""

from __future__ import annotations

import ipaddress
import logging

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.security.auth import AuthMiddleware
from api.security.body import BodyLimitMiddleware
from api.security.browser import BrowserGuardMiddleware
from api.security.ratelimit import RateLimitMiddleware
from config import Settings

logger = logging.getLogger(__name__)

__all__ = ["install_security", "warn_if_exposed"]


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the middlewares; the outermost (added last) runs first: Host/Origin, CORS, key, rate, body."""
    security = settings.security
    app.add_middleware(BodyLimitMiddleware, limits=settings.limits, security=security)
    if security.rate_limit_per_minute > 0:
        app.add_middleware(
            RateLimitMiddleware, per_minute=security.rate_limit_per_minute, burst=security.rate_limit_burst
        )
    keys = security.key_hashes()
    if keys:
        app.add_middleware(AuthMiddleware, keys=keys, public_metrics=security.public_metrics)
    if security.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=security.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(BrowserGuardMiddleware, settings=settings)


def is_loopback(host: str) -> bool:
    """Whether a bind address only listens on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warn_if_exposed(settings: Settings) -> None:
    """A loud warning when the server listens beyond loopback and no API key is set."""
    if not is_loopback(settings.server.host) and not settings.security.api_keys:
        logger.warning(
            "listening on %s with no API key: anyone who can reach port %d can generate, upload and delete. "
            "Set security.api_keys (docs/configuration.md#security) or bind to 127.0.0.1",
            settings.server.host,
            settings.server.port,
        )
