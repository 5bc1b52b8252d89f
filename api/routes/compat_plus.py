"""Plus's admin routes that scripts poll: ``/api/v1/errors/summary``, ``/errors/recent``, ``/metrics`` (JSON)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.compat.plus import metrics_json
from api.deps import MetricsDep, SettingsDep
from monitoring.errors import ErrorLog

router = APIRouter(prefix="/api/v1", tags=["monitoring"])


def _errors(request: Request) -> ErrorLog:
    return request.app.state.errors


@router.get("/errors/summary")
async def get_error_summary(request: Request) -> dict[str, Any]:
    """Error answers since start: totals by type, severity (client/server), route and code, and the latest five."""
    return _errors(request).summary()


@router.get("/errors/recent")
async def get_recent_errors(
    request: Request,
    count: Annotated[int, Query(ge=1, le=1000, description="How many, newest first (1-1000).")] = 10,
) -> dict[str, Any]:
    """The newest error answers, each with its request id (the X-Request-ID header of that answer)."""
    log = _errors(request)
    return {"recent_errors": log.recent(count), "total_stored": log.summary()["stored"]}


@router.get("/metrics")
async def get_metrics_json(metrics: MetricsDep, settings: SettingsDep) -> dict[str, Any]:
    """Plus's metrics as JSON: system load, processing and response times, request counts (Prometheus: /metrics)."""
    return metrics_json(metrics, settings)
