"""Request and response models of ``/api/v1/emotions`` (emotion profiles)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.tts import TTSRequest
from parameters import EXAGGERATION, CfgWeight, Exaggeration, MinP, RepetitionPenalty, Seed, Temperature, TopP

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^:]+$")]
ProfileId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class EmotionParameters(BaseModel):
    """Generation defaults a profile brings; a request's own values win."""

    model_config = ConfigDict(extra="forbid")

    cfg_weight: CfgWeight | None = Field(None, description="Classifier-free guidance weight, 0-2.")
    temperature: Temperature | None = Field(None, description="Sampling temperature, 0.05-5.")
    repetition_penalty: RepetitionPenalty | None = None
    min_p: MinP | None = None
    top_p: TopP | None = None
    seed: Seed | None = Field(None, description="A fixed seed: the profile always sounds the same.")
    language: str | None = Field(None, max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


class EmotionCreateRequest(BaseModel):
    """Body of ``POST /api/v1/emotions`` (JSON, or multipart with ``sample_files`` uploads)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"character": "narrator", "emotion": "calm", "exaggeration": 0.4, "samples": ["narrator"]}
            ]
        },
    )

    id: ProfileId | None = Field(None, description="Default: `<character>-<emotion>` in lower case.")
    character: Name = Field(description="Who speaks, e.g. `narrator`.")
    emotion: Name = Field(description="The mood, e.g. `happy`.")
    exaggeration: Exaggeration = Field(EXAGGERATION, description="Emotion intensity, 0-2.")
    samples: list[str] = Field(
        default_factory=list,
        description="Voices in voices/ (name or relative path) spoken in this mood; the first is used. "
        "Multipart: comma-separated, or repeated.",
    )
    folder: str | None = Field(
        None, description="Where uploaded `sample_files` go inside voices/. Default: the character's name."
    )
    description: str | None = Field(None, max_length=1000)
    parameters: EmotionParameters = Field(
        default_factory=EmotionParameters,
        description="Default generation parameters. Multipart: send them as plain fields (`cfg_weight=0.3`).",
    )


class EmotionUpdateRequest(BaseModel):
    """Body of ``PUT /api/v1/emotions/{id}``: the fields to change (``parameters`` is replaced whole)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"exaggeration": 0.6}]})

    character: Name | None = None
    emotion: Name | None = None
    exaggeration: Exaggeration | None = None
    samples: list[str] | None = None
    folder: str | None = Field(None, description="Where uploaded `sample_files` go inside voices/.")
    description: str | None = Field(None, max_length=1000)
    parameters: EmotionParameters | None = None


class EmotionInfo(BaseModel):
    """One profile."""

    id: str
    voice: str = Field(description="What to send as `voice` (TTS, OpenAI route) to speak with it.")
    character: str
    emotion: str
    exaggeration: float
    samples: list[str] = Field(description="Paths relative to voices/; the first is the one used.")
    parameters: dict[str, Any]
    description: str | None
    created: str
    updated: str


class EmotionListResponse(BaseModel):
    profiles: list[EmotionInfo]
    count: int


class EmotionDeleteResponse(BaseModel):
    success: bool = True
    message: str
    id: str


class EmotionTestRequest(TTSRequest):
    """Body of ``POST /api/v1/emotions/{id}/test``: any TTS field; the voice is the profile's."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"text": "This is the narrator, sounding calm.", "export_formats": ["wav"]}]
        }
    )

    text: str = Field("", description="What to say. Empty: a sentence naming the character and emotion.")
