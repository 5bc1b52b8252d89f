"""Shapes shared across the API: constrained number types, output fields, saved files, errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from parameters import CfgWeight as CfgWeight  # re-exported: api_models' names stay
from parameters import Exaggeration as Exaggeration
from parameters import Probability as Probability
from parameters import Seed as Seed
from parameters import SpeedFactor
from parameters import Temperature as Temperature


def example(**fields: Any) -> ConfigDict:
    """A request body that works as it is in Swagger UI's "Try it out" (after the README walkthrough)."""
    return ConfigDict(json_schema_extra={"examples": [fields]})


class Lenient(BaseModel):
    # Plus ignored unknown fields; scripts that send extra ones keep working.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


ResponseMode = Literal["stream", "file", "download", "url", "json"]


class SaveFields(Lenient):
    """Where results go and how they come back (TTS, VC and concatenation)."""

    export_formats: list[str] = Field(
        default_factory=lambda: ["wav", "mp3"],
        description="Formats to save: wav, mp3, flac, opus, aac, pcm. The first is the primary one.",
    )
    project: str | None = Field(
        None,
        description="Folder inside outputs/ for the files, e.g. `book/chapter1` (created if missing). Alias: `folder`.",
    )
    folder: str | None = Field(None, description="Alias of `project` (Plus).", exclude=True)
    response_mode: ResponseMode | None = Field(
        None,
        description="`stream` (default; also `file`, `download`): the audio bytes. `url`/`json`: a JSON description. "
        "The query parameter of the same name wins.",
    )
    return_format: str | None = Field(
        None, description="Which export format to stream (default: the first). The query parameter wins."
    )

    @field_validator("export_formats")
    @classmethod
    def _some_formats(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must name at least one format")
        return list(dict.fromkeys(f.lower().strip() for f in value))

    @field_validator("folder")
    @classmethod
    def _alias_agrees(cls, value: str | None, info: ValidationInfo) -> str | None:
        project = info.data.get("project")
        if value is not None and project is not None and project != value:
            raise ValueError("'folder' is an alias of 'project' and they disagree; send one of them")
        return value

    @model_validator(mode="after")
    def _project_alias(self) -> SaveFields:
        if self.folder is not None:
            self.project = self.folder
        return self


class OutputFields(SaveFields):
    """Where results go and the post-processing applied to them (TTS and VC)."""

    speed_factor: SpeedFactor = Field(
        1.0, description="Speed, keeping the pitch: 2.0 is twice as fast (half the duration), 0.5-2.0."
    )
    trim: bool = Field(False, description="Remove leading and trailing silence.")
    trim_threshold_ms: Annotated[int, Field(ge=50, le=1000)] = Field(
        200,
        description="Trim cuts a leading or trailing silence longer than this (ms) down to 50 ms, 50-1000.",
    )
    normalize_audio: bool = Field(False, description="Normalise loudness after generation.")
    normalize_method: Literal["ebu", "peak"] = Field(
        "ebu",
        description="`ebu`: integrated loudness (EBU R128) to `normalize_level` LUFS; `peak`: peak to `normalize_level` dBFS.",
    )
    normalize_level: Annotated[float, Field(ge=-70, le=0)] = Field(
        -24.0, description="Target: LUFS (ebu) or dBFS (peak)."
    )
    normalize_tp: Annotated[float, Field(ge=-9, le=0)] = Field(
        -2.0, description="True-peak ceiling in dBFS (ebu)."
    )
    normalize_lra: Annotated[float, Field(ge=1, le=50)] = Field(
        7.0,
        description="Loudness range target in LU (ebu), 1-50: a clip with a wider range is compressed "
        "(FFmpeg loudnorm's dynamic mode); otherwise one gain is applied.",
    )
    use_auto_editor: bool = Field(
        False,
        description="Shorten silences inside the audio to 2 x `ae_margin` (after trim, before loudness).",
    )
    ae_threshold: Annotated[float, Field(ge=0, le=1)] = Field(
        0.06,
        description="Auto-editor: audio whose peak stays below this fraction of full scale is silence, 0-1.",
    )
    ae_margin: Annotated[float, Field(ge=0, le=1)] = Field(
        0.2, description="Auto-editor: seconds of silence kept on each side of sound, 0-1."
    )
    keep_original_wav_ae: bool = Field(
        False,
        description="With `use_auto_editor`: also save the audio without it as `<name>_original.wav`.",
    )

    @field_validator("normalize_level")
    @classmethod
    def _ebu_level_in_range(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("normalize_audio") and info.data.get("normalize_method") == "ebu" and value > -5:
            raise ValueError("the ebu method takes a loudness target from -70 to -5 LUFS")
        return value


class OutputFileInfo(BaseModel):
    """One saved file."""

    format: str
    filename: str
    url: str = Field(description="Where to fetch it: /outputs/<path>.")
    path: str = Field(description="Its path on the server, relative to the working directory.")


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """Every error, OpenAI's shape; ``detail`` repeats the message for old Plus clients."""

    error: ErrorInfo
    detail: str
