"""The voice library: voices, their parameters and quality, uploads, edits and imports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from parameters import CfgWeight, Exaggeration, MinP, RepetitionPenalty, Seed, Speed, Temperature, TopP


class VoiceParameters(BaseModel):
    """A voice's default generation parameters (Chatterbox's, checked; other keys are kept as sent)."""

    model_config = ConfigDict(extra="allow")

    exaggeration: Exaggeration | None = Field(None, description="Emotion intensity, 0-2.")
    cfg_weight: CfgWeight | None = Field(None, description="Classifier-free guidance weight, 0-2.")
    temperature: Temperature | None = Field(None, description="Sampling temperature, 0.05-5.")
    repetition_penalty: RepetitionPenalty | None = Field(None, description="1-3.")
    min_p: MinP | None = Field(None, description="Min-p sampling, 0-1.")
    top_p: TopP | None = Field(None, description="Top-p sampling, 0-1.")
    seed: Seed | None = Field(None, description="Random seed.")
    speed: Speed | None = Field(None, description="Speed factor, 0.25-4.")


class VoiceQualityInfo(BaseModel):
    """How fit the clip is as a cloning reference (measured at upload)."""

    duration_seconds: float
    sample_rate: int
    peak_dbfs: float | None = Field(description="Sample peak; null: digital silence.")
    rms_dbfs: float | None
    loudness_lufs: float | None = Field(description="Integrated loudness (EBU R128); null: unmeasurable.")
    clipping_ratio: float = Field(description="Share of samples at full scale.")
    noise_floor_dbfs: float | None = Field(description="Level of the quietest 10% of 50 ms frames.")
    warnings: list[str] = Field(description="short, long, clipping, quiet, noisy, silent: what to fix.")


class VoiceInfo(BaseModel):
    """One voice (Plus's VoiceMetadata, plus ``path``, ``filename`` and ``audio_url``)."""

    name: str = Field(description="The voice's name: its file name without the extension.")
    filename: str
    path: str = Field(
        description="Relative to voices/: pass it as a TTS `voice` or VC `target_voice_source`."
    )
    url: str = Field(description="Plus's field: the same relative path (not a URL).")
    audio_url: str = Field(description="Where to download or play the audio.")
    folder_path: str | None = Field(description="Its folder inside voices/; null for the root.")
    description: str
    tags: list[str]
    default_parameters: dict[str, Any]
    duration_seconds: float | None
    sample_rate: int | None
    file_size_bytes: int
    format: str
    created_date: str
    last_updated: str | None
    last_used: str | None = Field(description="When TTS or VC last used it; null: never.")
    usage_count: int = Field(description="Times TTS or VC used it.")
    quality: VoiceQualityInfo | None = Field(description="Measured at upload; null for voices added by hand.")


class VoiceListResponse(BaseModel):
    """A page of voices (Plus's shape, plus ``total_voices``)."""

    voices: list[VoiceInfo]
    count: int = Field(description="Items on this page.")
    page: int
    page_size: int
    total_pages: int = Field(description="At least 1.")
    has_next: bool
    has_previous: bool
    total_voices: int = Field(description="Matches over all pages.")


class VoiceUploadResponse(BaseModel):
    """Answer of an upload or a metadata update (Plus's shape, plus ``path`` and ``quality``)."""

    success: bool = True
    message: str
    filename: str
    path: str
    voice_metadata: VoiceInfo
    quality: VoiceQualityInfo | None = Field(None, description="The upload's quality report.")


class VoiceBulkUploadResponse(BaseModel):
    """Answer of a bulk upload: each voice kept, and what an archive held that was skipped."""

    success: bool = True
    message: str
    voices: list[VoiceUploadResponse]
    skipped: dict[str, str] = Field(default_factory=dict, description="Archive entry -> why it was skipped.")


class VoiceMetadataUpdate(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"description": "A calm reading voice", "tags": ["calm", "male"]}]},
    )

    name: str | None = Field(None, max_length=200, description="New name: renames the file (409 if taken).")
    description: str | None = Field(None, max_length=2000)
    tags: list[str] | None = Field(None, max_length=100, description="Replaces the tags.")
    folder_path: str | None = Field(
        None, description='Moves the voice to this folder ("" for the root); 409 if taken there.'
    )
    default_parameters: VoiceParameters | None = Field(None, description="Replaces the default parameters.")


class VoiceImportResponse(BaseModel):
    """What an imported archive added, replaced and skipped."""

    success: bool = True
    message: str
    imported: list[str]
    replaced: list[str]
    skipped: dict[str, str] = Field(description="Archive entry -> why it was skipped.")
