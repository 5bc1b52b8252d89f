"""Test doubles for speech engines, for asserting exact audio effects through the real API."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from engines.base import EngineTraits, SynthesisParams
from utils.audio import Clip

RATE = 24000


class _Double:
    """What every double does alike: loads (a flag) and describes itself at 24 kHz on the CPU."""

    def __init__(self) -> None:
        self.loaded = False

    def load(self) -> None:
        self.loaded = True

    def unload(self) -> None:
        self.loaded = False

    def describe(self) -> dict[str, Any]:
        return {"device": "cpu", "sample_rate": RATE}


class ToneEngine(_Double):
    """Speaks any text as 1 s of silence, 1 s of a 220 Hz tone at -20 dBFS peak, 1 s of silence."""

    name = "tone"
    kind: Literal["tts"] = "tts"
    traits = EngineTraits()
    clones_voices = False
    varies_with_seed = False
    max_chunk_chars: int | None = None
    languages: tuple[str, ...] = ("en",)

    def __init__(self, *, clones_voices: bool = False) -> None:
        super().__init__()
        self.clones_voices = clones_voices
        self.voices_heard: list[Path] = []  # reference files it was given, while they existed

    def has_voice(self, name: str) -> bool:
        return False

    def languages_for(self, voice: str | None) -> tuple[str, ...]:
        return self.languages

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        if isinstance(voice, Path):
            assert voice.is_file()
            self.voices_heard.append(voice)
        t = np.arange(RATE) / RATE
        tone = 0.1 * np.sin(2 * np.pi * 220 * t)
        return Clip(np.concatenate([np.zeros(RATE), tone, np.zeros(RATE)]).astype(np.float32), RATE)


class PreparingEngine(ToneEngine):
    """A voice-cloning tone engine that records the voices it was asked to prepare (warm_voices)."""

    def __init__(self) -> None:
        super().__init__(clones_voices=True)
        self.prepared: list[str] = []

    def prepare_voice(self, voice: Path) -> str:
        self.prepared.append(voice.name)
        return f"key-{voice.stem}"


def plant_warm_voices(root: Path) -> None:
    """``narrator.wav`` and ``books/anna.wav`` under ``root/voices`` (placeholder bytes: never decoded)."""
    (root / "voices" / "books").mkdir(parents=True)
    for name in ("narrator.wav", "books/anna.wav"):
        (root / "voices" / name).write_bytes(b"RIFF")


class GapEngine(ToneEngine):
    """Speaks any text as 1 s of a 220 Hz tone (-20 dBFS peak), 2 s of silence, 1 s of the tone."""

    name = "gap"

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        tone = 0.1 * np.sin(2 * np.pi * 220 * np.arange(RATE) / RATE)
        return Clip(np.concatenate([tone, np.zeros(2 * RATE), tone]).astype(np.float32), RATE)


class EchoConversion(_Double):
    """A voice-conversion double: answers each window unchanged (so durations are exact)."""

    name = "chatterbox-vc"
    kind: Literal["vc"] = "vc"
    traits = EngineTraits()

    def convert(self, source: Clip, target_voice: Path | None, params: SynthesisParams) -> Clip:
        return source
