"""Navigation and configuration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.compat.plus import plus_config
from api.deps import SettingsDep
from version import __version__

router = APIRouter(tags=["system"])


@router.get("/")
async def get_root(settings: SettingsDep) -> dict[str, Any]:
    """Where things are."""
    return {
        "message": "Chatterbox TTS Extended Plus API",
        "version": __version__,
        "endpoints": {
            "api_docs": "/docs",
            **({"gradio_ui": "/ui"} if settings.ui.enabled else {}),
            "health_check": "/api/v1/health",
            "metrics": "/metrics",
            "models": "/api/v1/models",
            "tts_generation": "/api/v1/tts",
            "voice_conversion": "/api/v1/vc",
            "config": "/api/v1/config",
        },
    }


@router.get("/api/v1/config")
async def get_config(settings: SettingsDep) -> dict[str, Any]:
    """The effective configuration (YAML + environment), secrets removed; and Plus's keys (tts_defaults, ...)."""
    return settings.public_dict() | plus_config(settings)
