"""The protocol every speech engine implements, and the parameters they take."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from utils.audio import Clip

# The shortest clip a model can take a voice from (a speaker embedding needs about a second of
# speech; 5-10 s clone best), and the shortest input voice conversion can re-voice.
MIN_REFERENCE_SECONDS = 1.0
MIN_VC_INPUT_SECONDS = 0.5


@dataclass(frozen=True)
class SynthesisParams:
    """Sampling controls for one generation; engines ignore the ones they have no use for."""

    exaggeration: float = 0.5
    cfg_weight: float = 0.5
    temperature: float = 0.8
    repetition_penalty: float = 1.2
    min_p: float = 0.05
    top_p: float = 1.0
    top_k: int = 1000  # chatterbox-turbo only
    seed: int = 0
    watermark: bool = True
    language: str | None = None  # a short code the engine speaks (see ``languages_for``); None: its default


def language_code(value: str) -> str:
    """A language tag as a short lower-case code: ``en_US``, ``en-us`` and ``EN`` are all ``en``."""
    return re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]


@runtime_checkable
class SpeechEngine(Protocol):
    """What the CoreEngine needs from any engine: a name, a kind, load and unload."""

    name: str
    kind: Literal["tts", "vc"]

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None:
        """Load weights; raise EngineUnavailableError with a reason when they cannot be had."""

    def unload(self) -> None:
        """Free the weights (and the GPU memory they hold)."""

    def describe(self) -> dict[str, Any]:
        """Facts for /health and /api/v1/models: device, sample rate, voices."""


@runtime_checkable
class SynthesisEngine(SpeechEngine, Protocol):
    """Text to speech."""

    clones_voices: bool  # True: `voice` is a reference audio file; False: a voice name the engine knows
    varies_with_seed: bool  # True: takes differ, so Whisper validation can pick the best
    max_chunk_chars: int | None  # the CoreEngine splits longer text; None: the engine takes any length
    languages: tuple[str, ...]  # short codes (``en``) of every language it can speak, its default first

    def languages_for(self, voice: str | None) -> tuple[str, ...]:
        """The languages it speaks with a named voice (None: its built-in voice), the default first."""

    def has_voice(self, name: str) -> bool:
        """Whether a named (non-cloned) voice exists."""

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        """Speak one chunk of text; ``voice=None`` uses the engine's built-in voice."""


@runtime_checkable
class ConversionEngine(SpeechEngine, Protocol):
    """Voice conversion: the words and timing of one clip, in the voice of another."""

    def convert(self, source: Clip, target_voice: Path | None, params: SynthesisParams) -> Clip:
        """Re-voice one window of audio; ``target_voice=None`` uses the engine's built-in voice."""
