"""A checked TTS request (its plan) and what the saved output's metadata says about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.requests import ChunkReport, SpeechRequest, TimedPiece
from engines.base import SynthesisEngine, SynthesisParams
from utils.audio import Clip
from utils.audio.postprocess import TimeMap

CHUNK_CROSSFADE_MS = 20.0  # the seam between two chunks of one text


@dataclass
class SpeechPlan:
    """A checked TTS request: its text, engine, parameters and chunks."""

    text: str
    spoken: str
    name: str
    engine: SynthesisEngine
    params: SynthesisParams
    chunks: list[str]
    notes: list[str] = field(default_factory=list)  # e.g. that the fallback engine spoke, and why


def tts_record(
    plan: SpeechPlan, request: SpeechRequest, reports: list[ChunkReport], warnings: list[str]
) -> dict[str, Any]:
    """What the output's metadata says about how TTS made it."""
    record = {"type": "tts", "engine": plan.name, "voice": request.voice, "language": plan.params.language}
    if request.emotion_profile:
        record["emotion_profile"] = request.emotion_profile
    record |= {"text": plan.text, "spoken_text": plan.spoken}
    return record | {"chunks": [r.__dict__ for r in reports], "warnings": warnings}


def timed_pieces(clips: list[Clip], reports: list[ChunkReport], moved: TimeMap) -> list[TimedPiece]:
    """Where each chunk is heard: its span in the crossfaded join, moved by speed and trim."""
    pieces, position = [], 0
    for index, (clip, report) in enumerate(zip(clips, reports, strict=True)):
        rate = clip.sample_rate
        if index:  # ``concatenate`` overlaps each seam by the crossfade (or less, for tiny clips)
            position -= min(int(rate * CHUNK_CROSSFADE_MS / 1000), position, len(clip.samples))
        start, position = position, position + len(clip.samples)
        begin, end = moved(start / rate), moved(position / rate)
        pieces.append(TimedPiece(index, report.text, round(begin, 3), round(end, 3)))
    return pieces
