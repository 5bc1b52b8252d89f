"""``GET /api/v1/engines``: every configured engine, what it can do, and whether it can run."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.views import engines_response
from api_models import EnginesResponse

router = APIRouter(prefix="/api/v1/engines", tags=["models"])


@router.get("", response_model=EnginesResponse)
async def list_engines(engine: EngineDep) -> EnginesResponse:
    """Every configured engine with its capabilities, state, and why it is unavailable when it is."""
    return engines_response(engine.engine_listing(), engine.memory())
