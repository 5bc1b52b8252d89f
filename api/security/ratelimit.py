"""A token bucket per API key (or per client address without one): 429 with ``Retry-After``."""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response

MAX_BUCKETS = 10_000  # clients remembered; the least recently seen are forgotten first
EXEMPT = {"/health"}


class RateLimitMiddleware:
    """``burst`` requests at once, then ``per_minute`` a minute, for each key or client address."""

    def __init__(self, app: ASGIApp, per_minute: float, burst: int) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # who -> (tokens, when)

    def take(self, who: str) -> float:
        """Take a token; 0 when granted, else the seconds until one is free."""
        now = time.monotonic()
        tokens, then = self.buckets.pop(who, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self.buckets[who] = (tokens - 1 if wait == 0 else tokens, now)
        if len(self.buckets) > MAX_BUCKETS:
            self.buckets.popitem(last=False)
        return wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        key = scope.get("state", {}).get("api_key")
        who = f"key:{key}" if key else f"addr:{(scope.get('client') or ('?',))[0]}"
        wait = self.take(who)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            response = error_response(
                429,
                f"Too many requests: at most {self.rate * 60:g} a minute (security.rate_limit_per_minute); "
                f"retry in {seconds} s",
                type_="rate_limit_error",
                code="rate_limit_exceeded",
                headers={"Retry-After": str(seconds)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
