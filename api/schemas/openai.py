"""The OpenAI-compatible ``/v1/audio/speech`` body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from parameters import CfgWeight, Exaggeration, Seed, Speed, Temperature


class OpenAIVoice(BaseModel):
    """OpenAI's voice object form."""

    model_config = ConfigDict(extra="forbid")
    id: str


class OpenAISpeechRequest(BaseModel):
    """Body of ``POST /v1/audio/speech`` (OpenAI's fields, plus a few of ours)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"model": "tts-1", "voice": "alloy", "input": "Hello from my own server."}]
        },
    )
    model: str = Field(
        description="`tts-1`, `tts-1-hd`, `gpt-4o-mini-tts` (see openai.models) or an engine name."
    )
    input: str = Field(
        min_length=1, description="The text; at most openai.max_input_chars (4096) characters."
    )
    voice: str | OpenAIVoice = Field(
        description="A voice in voices/, an alias from openai.voices, an OpenAI voice name, or a Piper voice."
    )
    instructions: str | None = Field(
        None, max_length=4096, description="Delivery words: excited, calm, slow..."
    )
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: Speed = 1.0
    stream_format: Literal["audio", "sse"] = "audio"
    exaggeration: Exaggeration | None = None
    cfg_weight: CfgWeight | None = None
    temperature: Temperature | None = None
    seed: Seed | None = None
    language: str | None = Field(
        None,
        max_length=35,
        description="Not in OpenAI's API: the language of `input` for engines that speak several "
        "(`chatterbox-multilingual`), e.g. `de`. Omitted: the engine's default. One it cannot speak is a 400.",
    )

    @field_validator("input")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value
