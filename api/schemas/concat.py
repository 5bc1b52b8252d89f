"""Concatenation: options, the two request bodies and the answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import Lenient, OutputFileInfo, SaveFields, example
from parameters import Seed


class ConcatOptionsFields(SaveFields):
    """How segments are joined (``/api/v1/concat`` and ``/api/v1/concat/mixed``)."""

    export_formats: list[str] = Field(
        default_factory=lambda: ["wav"],
        description="Formats to save: wav, mp3, flac, opus, aac, pcm. The first is the primary one.",
    )
    crossfade_ms: Annotated[int, Field(ge=0, le=5000)] = Field(
        0, description="Crossfade where two audio segments meet (ms, 0-5000); each one shortens the total."
    )
    pause_duration_ms: Annotated[int, Field(ge=0, le=3000)] = Field(
        0,
        description="Pause inserted between audio segments (ms, 0-3000). A silence item replaces it at its gap.",
    )
    pause_variation_ms: Annotated[int, Field(ge=0, le=500)] = Field(
        200, description="Each pause varies at random by up to this (ms, 0-500), never below 0; see `seed`."
    )
    seed: Seed = Field(0, description="Seed for the pause variation (0: random); the seed used is returned.")
    trim: bool = Field(
        False, description="Trim leading/trailing silence of each audio segment before joining."
    )
    trim_threshold_ms: Annotated[int, Field(ge=50, le=1000)] = Field(
        200, description="Trim cuts an edge silence longer than this (ms) down to 50 ms, 50-1000."
    )
    normalize_levels: bool = Field(
        True, description="Bring every audio segment to `normalize_level` LUFS, so they match."
    )
    normalize: bool = Field(False, description="Bring the whole result to `normalize_level` LUFS.")
    normalize_level: Annotated[float, Field(ge=-70, le=-5)] = Field(
        -23.0, description="Loudness target in LUFS (EBU R128)."
    )
    normalize_tp: Annotated[float, Field(ge=-9, le=0)] = Field(
        -1.0, description="Peak ceiling in dBFS that loudness changes never push past."
    )
    output_filename: str | None = Field(
        None,
        max_length=200,
        description="Name for the result (extension dropped). Default: a generated `concat_...` name.",
    )
    overwrite: bool = Field(False, description="Replace an existing output of that name (else 409).")


class ConcatRequest(ConcatOptionsFields):
    """Body of ``POST /api/v1/concat``."""

    model_config = example(files=["vc_input:line.wav", "(1s)", "voice:narrator"], export_formats=["mp3"])

    files: list[str] = Field(
        min_length=1,
        max_length=5000,
        description="In order: files in outputs/ (`book/ch1.wav`), `voice:<name>` or `vc_input:<name>`, "
        "and silences such as `(500ms)` or `(1.5s)` (50 ms-10 s).",
    )


class MixedSegment(Lenient):
    """One item of ``/api/v1/concat/mixed``."""

    type: Literal["server_file", "upload", "silence"]
    source: str | None = Field(None, description="server_file: a path as in `files`; silence: `(500ms)`.")
    index: Annotated[int, Field(ge=0)] | None = Field(
        None, description="upload: which `uploaded_files` entry."
    )

    @model_validator(mode="after")
    def _has_what_it_needs(self) -> MixedSegment:
        if self.type == "upload" and self.index is None:
            raise ValueError("an 'upload' segment needs 'index'")
        if self.type != "upload" and not self.source:
            raise ValueError(f"a {self.type!r} segment needs 'source'")
        return self


class MixedConcatRequest(ConcatOptionsFields):
    """The ``request_json`` form field of ``POST /api/v1/concat/mixed``."""

    segments: list[MixedSegment] = Field(min_length=1, max_length=5000)


class ConcatResponse(BaseModel):
    """The JSON answer of concatenation (Plus's shape, plus the TTS-style file list)."""

    success: bool = True
    message: str
    output_files: list[str] = Field(description="The files' paths under outputs/ (bare names at its root).")
    files: list[OutputFileInfo]
    total_duration_seconds: float
    file_count: int = Field(description="Audio segments joined.")
    silence_count: int
    sample_rate: int
    seed_used: int
    processing_time_seconds: float
    metadata: dict[str, Any] = Field(description="The recorded recipe (also in the output's sidecar).")
