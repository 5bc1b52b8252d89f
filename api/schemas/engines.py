"""Engines and health: load/unload, engine listings, capabilities, memory, /health."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EngineRequest(BaseModel):
    """Body of ``POST /api/v1/models/load`` and ``/unload``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"engine": "piper"}]})
    engine: str = Field(description="Engine name, e.g. `chatterbox`, `chatterbox-vc`, `piper`.")


class EngineInfo(BaseModel):
    """An engine's state."""

    model_config = ConfigDict(extra="allow")
    name: str
    kind: str
    state: str = Field(description="unloaded, loading, ready or failed")
    error: str | None = Field(None, description="Why the engine cannot run, when it failed.")


class EngineListResponse(BaseModel):
    """Every configured engine."""

    default: str
    serving: str | None = Field(description="The engine that answers requests naming none.")
    serving_reason: str | None = Field(description="Why that is not the default engine, if it is not.")
    engines: list[EngineInfo]


class HealthResponse(BaseModel):
    """Readiness and state; answered with 503 while the serving engine loads or when none can serve."""

    model_config = ConfigDict(extra="allow")
    status: str = Field(
        description="healthy, degraded (default engine failed, fallback serves), loading or unavailable"
    )
    serving_engine: str | None
    serving_reason: str | None
    default_engine: str
    engines: list[EngineInfo]
    models_loaded: dict[str, bool]
    queue_depth: int
    version: str
    uptime_seconds: float
    system_info: dict[str, Any]
    warnings: list[str] | None = None
    metrics: dict[str, Any] = Field(description="Request counts and rates since start.")
    resource_status: dict[str, Any] = Field(description="Size and file count of each data folder.")
    error_summary: dict[str, Any] | None = Field(None, description="Server errors since start; null if none.")


class EngineCapabilities(BaseModel):
    """What an engine can do."""

    voice_cloning: bool = Field(description="Speaks in the voice of a reference audio file from voices/.")
    voice_conversion: bool = Field(description="Re-voices audio (/api/v1/vc).")
    text_to_speech: bool
    streaming: bool = Field(
        description="Audio can be streamed as it is generated (stream=true, OpenAI route)."
    )
    languages: list[str] = Field(description="Short codes of the languages it speaks, its default first.")
    sample_rate: int | None = Field(description="Hz of what it produces; null until a remote has answered.")


class EngineStatus(BaseModel):
    """One configured engine, ``GET /api/v1/engines``."""

    name: str = Field(
        description="What `engine` (and an OpenAI `model`) takes: `piper`, `remote:alltalk`, ..."
    )
    kind: str = Field(description="`tts` or `vc`")
    state: str = Field(description="loaded, loading, unloaded (loads on first use) or unavailable")
    reason: str | None = Field(None, description="Why it is unavailable.")
    capabilities: EngineCapabilities
    details: dict[str, Any] = Field(
        description="What the engine says about itself (device, voices, base_url...)."
    )


class EngineMemory(BaseModel):
    """Model weights the local engines hold, against ``models.memory_budget_mb``."""

    budget_mb: float = Field(description="models.memory_budget_mb; 0: no limit.")
    resident_mb: float = Field(description="MB of weights all engines hold now.")
    engines: dict[str, float] = Field(description="MB of weights each engine holds now (0: unloaded).")
    warning: str | None = Field(
        None, description="Why more than the budget is held (an engine in use, or one larger than it)."
    )


class EnginesResponse(BaseModel):
    """Every configured engine with its capabilities and state."""

    default: str
    serving: str | None = Field(description="The engine that answers requests naming none.")
    engines: list[EngineStatus]
    memory: EngineMemory = Field(description="The memory budget and what each engine holds.")
