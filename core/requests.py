"""The plain shapes CoreEngine takes and returns (no web framework, no model code)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from config import GenerationSettings
from engines.base import SynthesisParams
from parameters import VC_OVERLAP_SECONDS, VC_WINDOW_SECONDS
from recognition.words import TimedWord
from utils.audio import Clip, PostProcessing
from utils.text import TextOptions

# The sampling fields of SynthesisParams that have a configured default (config.GenerationSettings):
# a request leaves them unset to get the engine's or the config's value.
SAMPLING_KEYS = tuple(f.name for f in fields(SynthesisParams) if f.name in GenerationSettings.model_fields)
CONTROL_KEYS = (*SAMPLING_KEYS, "seed")  # what a door copies from its body into a request, by name


def copy_controls(body: object, target: type) -> dict[str, Any]:
    """The sampling controls and seed that ``body`` carries and the ``target`` request dataclass takes,
    by name: a new sampling parameter needs no mapping code at any door."""
    taken = {f.name for f in fields(target)}
    return {key: getattr(body, key) for key in CONTROL_KEYS if key in taken and hasattr(body, key)}


@dataclass(frozen=True)
class OutputOptions:
    """Where and how results are written."""

    formats: tuple[str, ...] = ("wav",)  # the first is the primary one
    project: str | None = None  # a folder inside outputs/
    post: PostProcessing = field(default_factory=PostProcessing)


@dataclass(frozen=True)
class ValidationOptions:
    """Whisper checking of each chunk; ``None`` fields take the ``validation`` config."""

    bypass: bool | None = None
    candidates: int | None = None
    attempts: int | None = None
    whisper_model: str | None = None
    longest_on_fail: bool | None = None


@dataclass(frozen=True)
class ChunkReport:
    """How one chunk was made: takes generated and what Whisper heard in the kept one."""

    index: int
    text: str
    takes: int
    score: float | None = None  # None: not checked
    transcript: str | None = None
    passed: bool | None = None


@dataclass(frozen=True)
class SpeechRequest:
    """Text to speak; ``None`` fields take the configured defaults."""

    text: str
    engine: str | None = None
    voice: str | None = None
    voice_file: Path | None = None  # an uploaded reference clip (wins over ``voice``)
    exaggeration: float | None = None
    cfg_weight: float | None = None
    temperature: float | None = None
    repetition_penalty: float | None = None
    min_p: float | None = None
    top_p: float | None = None
    top_k: int | None = None  # chatterbox-turbo only
    seed: int | None = None  # None or 0: a random seed, reported back
    watermark: bool | None = None
    language: str | None = None  # None: the engine's (or voice's) default
    timestamps: bool = False  # report where each piece of text starts and ends in the audio
    word_timestamps: bool = False  # and each word (Whisper-aligned); implies ``timestamps``
    output: OutputOptions = field(default_factory=OutputOptions)
    text_options: TextOptions = field(default_factory=TextOptions)
    validation: ValidationOptions = field(default_factory=ValidationOptions)
    emotion_profile: str | None = None  # set when ``voice`` named an emotion profile (its id)


@dataclass(frozen=True)
class ConversionRequest:
    """A clip from vc_inputs/ to re-voice with a voice from voices/ (``None``: the built-in voice)."""

    source: str | None = None  # a name in vc_inputs/ or a URL
    target_voice: str | None = None
    source_file: Path | None = None  # an uploaded clip (wins over ``source``)
    chunk_sec: float = VC_WINDOW_SECONDS  # inputs longer than this are converted in windows...
    overlap_sec: float = VC_OVERLAP_SECONDS  # ...that overlap by this much and are crossfaded back together
    target_file: Path | None = None  # an uploaded target voice (wins over ``target_voice``)
    seed: int | None = None
    watermark: bool | None = None
    output: OutputOptions = field(default_factory=OutputOptions)


@dataclass(frozen=True)
class OutputFile:
    """One saved file of a result."""

    format: str
    path: Path
    relative: str  # inside outputs/, forward slashes: its URL is /outputs/<relative>
    content_type: str


@dataclass(frozen=True)
class TimedPiece:
    """A piece of the text (one generated chunk) and when it is heard in the final audio."""

    index: int
    text: str
    start: float  # seconds
    end: float


@dataclass(frozen=True)
class SpeechResult:
    """Generated audio, the files it was saved as, and how it was made."""

    clip: Clip
    files: list[OutputFile]
    engine: str
    seed: int
    generation_seconds: float
    processing_seconds: float
    chunks: list[ChunkReport]
    warnings: list[str] = field(default_factory=list)
    timestamps: list[TimedPiece] | None = None  # when the request asked for them
    words: list[TimedWord] | None = None  # when the request asked for word timestamps
    fallback: str | None = None  # the fallback engine spoke for the default one, and why


@dataclass
class SpeechStream:
    """Speech as it is generated: the engine, the seed, and the audio piece by piece."""

    engine: str
    seed: int
    pieces: AsyncIterator[Clip]
    fallback: str | None = None  # the fallback engine speaks for the default one, and why
