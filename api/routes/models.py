"""Engine state, loading and unloading."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.views import engine_list
from api_models import EngineInfo, EngineListResponse, EngineRequest

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.get("", response_model=EngineListResponse)
async def list_models(engine: EngineDep) -> EngineListResponse:
    """Every configured engine with its state, and which one serves by default."""
    return engine_list(engine.engine_listing())


@router.post("/load", response_model=EngineInfo)
async def load_model(body: EngineRequest, engine: EngineDep) -> EngineInfo:
    """Load an engine now (a failed one is retried); 503 with the reason when it cannot run."""
    return EngineInfo(**await engine.load(body.engine))


@router.post("/unload", response_model=EngineInfo)
async def unload_model(body: EngineRequest, engine: EngineDep) -> EngineInfo:
    """Free an engine's memory; it loads again on its next request."""
    return EngineInfo(**await engine.unload(body.engine))
