"""Health and Prometheus metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import EngineDep, MetricsDep
from api_models import EngineInfo, HealthResponse
from monitoring.metrics import CONTENT_TYPE_LATEST
from monitoring.system import directory_usage, system_snapshot
from version import __version__

router = APIRouter(tags=["monitoring"])


@router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
@router.get("/api/v1/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
async def get_health(request: Request, engine: EngineDep, metrics: MetricsDep) -> JSONResponse:
    """Engine state, device, memory, uptime and queue depth; 503 while loading or when nothing can serve."""
    serving, reason = engine.serving()
    engines = engine.engines_info()
    counts, paths = metrics.summary(), engine.settings.paths
    states = {info["name"]: info["state"] for info in engines}
    if serving is None:
        status = "unavailable"
    elif states[serving] == "loading":
        status = "loading"
    else:
        status = "degraded" if reason else "healthy"
    health = HealthResponse(
        status=status,
        serving_engine=serving,
        serving_reason=reason,
        default_engine=engine.settings.engines.default,
        engines=[EngineInfo(**info) for info in engines],
        models_loaded={
            "tts": any(i["state"] == "ready" and i["kind"] == "tts" for i in engines),
            "vc": any(i["state"] == "ready" and i["kind"] == "vc" for i in engines),
        },
        queue_depth=engine.queue_depth,
        version=__version__,
        uptime_seconds=round(time.time() - engine.started_at, 1),
        system_info=system_snapshot(engine.settings.paths.outputs_dir),
        warnings=[reason] if reason else None,
        metrics=counts,
        resource_status=directory_usage(
            {"outputs": paths.outputs_dir, "voices": paths.voices_dir, "vc_inputs": paths.vc_inputs_dir}
        ),
        error_summary={"total_errors": counts["server_errors"]} if counts["server_errors"] else None,
    )
    code = 503 if status in ("loading", "unavailable") else 200
    body = health.model_dump(mode="json")
    cluster = getattr(request.app.state, "cluster_health", None)  # on Ray Serve: every replica (serving/)
    if cluster is not None:
        body["cluster"] = await cluster()
    return JSONResponse(body, status_code=code)


@router.get("/metrics", response_class=Response)
async def get_metrics(metrics: MetricsDep) -> Response:
    """Prometheus metrics: requests, latency, generation seconds, audio seconds, real-time factor."""
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
