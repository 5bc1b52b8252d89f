"""What every section shares: the engine names and the frozen, strict base model."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

EngineName = Literal["chatterbox", "chatterbox-vc", "chatterbox-multilingual", "chatterbox-turbo", "piper"]
LocalTTSName = Literal["chatterbox", "chatterbox-multilingual", "chatterbox-turbo", "piper"]
TTS_ENGINES: tuple[str, ...] = get_args(LocalTTSName)  # the one list of local text-to-speech engines
VC_ENGINES: tuple[str, ...] = tuple(name for name in get_args(EngineName) if name not in TTS_ENGINES)

Port = Annotated[int, Field(ge=1, le=65535)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
