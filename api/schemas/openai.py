"""The OpenAI-compatible ``/v1/audio/speech`` body, with the fields Kokoro-FastAPI and
travisvn/chatterbox-tts-api clients send (docs/clients.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from parameters import CfgWeight, Exaggeration, Seed, Speed, Temperature


class OpenAIVoice(BaseModel):
    """OpenAI's voice object form."""

    model_config = ConfigDict(extra="forbid")
    id: str


AudioFormatName = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]


class OpenAISpeechRequest(BaseModel):
    """Body of ``POST /v1/audio/speech`` (OpenAI's fields, Kokoro's and travisvn's, a few of ours).

    Other fields are ignored and named in the ``X-Ignored-Fields`` header (``compat.strict_openai``:
    a 400 instead).
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [{"model": "tts-1", "voice": "alloy", "input": "Hello from my own server."}]
        },
    )
    model: str | None = Field(
        None,
        description="`tts-1`, `tts-1-hd`, `gpt-4o-mini-tts` (see openai.models) or an engine name. "
        "Omitted or another name (`kokoro`, `chatterbox-tts`): the serving engine, named in X-Model-Ignored "
        "(`compat.strict_openai`: a 404).",
    )
    input: str = Field(
        min_length=1, description="The text; at most openai.max_input_chars (4096) characters."
    )
    voice: str | OpenAIVoice | None = Field(
        None,
        description="A voice in voices/ (file or display name), an alias from openai.voices, an OpenAI voice "
        "name, or a Piper voice; a blend `a+b` or `a(2)+b(1)` mixes Chatterbox voices. Omitted: "
        "openai.fallback_voice or the engine's own voice.",
    )
    instructions: str | None = Field(
        None, max_length=4096, description="Delivery words: excited, calm, slow..."
    )
    response_format: AudioFormatName = "mp3"
    speed: Speed = 1.0
    stream_format: Literal["audio", "sse"] = "audio"
    stream: bool = Field(
        True,
        description="Kokoro: false answers once the whole audio is made, with Content-Length "
        "(a WAV then has its exact length in the header).",
    )
    return_download_link: bool = Field(
        False,
        description="Kokoro: also save the audio in outputs/ and name it in X-Download-Path "
        "(`/download/<path>`, served under /v1). The answer then comes once the file is saved.",
    )
    download_format: AudioFormatName | None = Field(
        None, description="Kokoro: the saved file's format (default: response_format)."
    )
    lang_code: str | None = Field(
        None,
        max_length=35,
        description="Kokoro: the language; its one-letter codes (a, b, e, f, h, i, j, p, z) or a code like `de`. "
        "Same as `language`.",
    )
    volume_multiplier: float = Field(
        1.0, ge=0, le=10, description="Kokoro: multiplies the loudness (samples are clipped at full scale)."
    )
    normalization_options: dict[str, Any] | None = Field(
        None,
        description='Kokoro: `{"normalize": false}` turns off our text clean-ups; its other keys '
        "(Kokoro's own normalizers) are accepted and have no effect here.",
    )
    streaming_chunk_size: int | None = Field(
        None, ge=50, le=500, description="travisvn: accepted; chunks follow limits.max_chunk_chars."
    )
    streaming_strategy: Literal["sentence", "paragraph", "fixed", "word"] | None = Field(
        None, description="travisvn: accepted; chunks are always cut at sentence ends."
    )
    streaming_buffer_size: int | None = Field(None, ge=1, le=10, description="travisvn: accepted, no effect.")
    streaming_quality: Literal["fast", "balanced", "high"] | None = Field(
        None, description="travisvn: accepted, no effect."
    )
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
