"""Request and response shapes of the HTTP API (pydantic only)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

Exaggeration = Annotated[float, Field(ge=0, le=2)]
CfgWeight = Annotated[float, Field(ge=0, le=2)]
Temperature = Annotated[float, Field(ge=0.05, le=5)]
Probability = Annotated[float, Field(ge=0, le=1)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


class _Lenient(BaseModel):
    # Plus ignored unknown fields; scripts that send extra ones keep working.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TTSRequest(_Lenient):
    """Body of ``POST /api/v1/tts``."""

    text: str = Field(description="Text to speak. Long text is split at sentence boundaries.")
    engine: str | None = Field(
        None, description="Engine: `chatterbox` or `piper`. Default: the configured engine (or its fallback)."
    )
    voice: str | None = Field(
        None,
        validation_alias=AliasChoices("voice", "reference_audio_filename"),
        description="Chatterbox: a reference audio file in voices/ (name or relative path, extension optional). "
        "Piper: a Piper voice name. Omitted: the engine's built-in voice. Alias: `reference_audio_filename`.",
    )
    exaggeration: Exaggeration | None = Field(None, description="Emotion intensity, 0-2 (Chatterbox).")
    cfg_weight: CfgWeight | None = Field(
        None, description="Classifier-free guidance weight, 0-2 (Chatterbox)."
    )
    temperature: Temperature | None = Field(None, description="Sampling temperature, 0.05-5 (Chatterbox).")
    repetition_penalty: Annotated[float, Field(ge=1, le=3)] | None = Field(
        None, description="Penalty for repeated speech tokens, 1-3 (Chatterbox)."
    )
    min_p: Probability | None = Field(None, description="Min-p sampling, 0-1 (Chatterbox).")
    top_p: Probability | None = Field(None, description="Top-p sampling, 0-1 (Chatterbox).")
    seed: Seed | None = Field(
        None, description="Seed for repeatable output; 0 or omitted picks one at random."
    )
    disable_watermark: bool | None = Field(
        None, description="Skip Chatterbox's Perth watermark. Default: from config (watermark on)."
    )

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class VCRequest(_Lenient):
    """Body of ``POST /api/v1/vc`` (JSON form)."""

    input_audio_source: str = Field(description="The clip to re-voice: a file in vc_inputs/.")
    target_voice_source: str | None = Field(
        None, description="The voice to speak with: a file in voices/. Omitted: the built-in voice."
    )
    seed: Seed | None = Field(None, description="Seed for repeatable output; 0 or omitted picks one.")
    disable_watermark: bool | None = Field(
        None, description="Skip the Perth watermark. Default: from config."
    )


class EngineRequest(BaseModel):
    """Body of ``POST /api/v1/models/load`` and ``/unload``."""

    model_config = ConfigDict(extra="forbid")
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


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """Every error, OpenAI's shape; ``detail`` repeats the message for old Plus clients."""

    error: ErrorInfo
    detail: str


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
