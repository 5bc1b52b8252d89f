"""``GET /api/v1/engines``: every configured engine, what it can do, and whether it can run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import EngineDep
from api.views import engine_memory
from api_models import EngineCapabilities, EnginesResponse, EngineStatus
from core.speech import EngineFacts

router = APIRouter(prefix="/api/v1/engines", tags=["models"])
_STATES = {"ready": "loaded", "failed": "unavailable"}  # loading and unloaded keep their names


def engine_status(info: dict[str, Any], facts: EngineFacts) -> EngineStatus:
    """The public view of one engine from the manager's ``info`` and what the engine declares."""
    name, kind, state, error, details = info["name"], info["kind"], info["state"], info["error"], dict(info)
    for key in ("name", "kind", "state", "error"):
        details.pop(key)
    capabilities = EngineCapabilities(
        voice_cloning=facts.clones_voices,
        voice_conversion=kind == "vc",
        text_to_speech=kind == "tts",
        streaming=kind == "tts",
        languages=list(facts.languages or details.get("languages", [])),
        sample_rate=details.get("sample_rate"),
    )
    return EngineStatus(
        name=name,
        kind=kind,
        state=_STATES.get(state, state),
        reason=error,
        capabilities=capabilities,
        details=details,
    )


@router.get("", response_model=EnginesResponse)
async def list_engines(engine: EngineDep) -> EnginesResponse:
    """Every configured engine with its capabilities, state, and why it is unavailable when it is."""
    serving, _ = engine.serving()
    engines = [engine_status(info, engine.speech.facts(info["name"])) for info in engine.engines_info()]
    memory = engine_memory(engine.memory())
    return EnginesResponse(
        default=engine.settings.engines.default, serving=serving, engines=engines, memory=memory
    )
