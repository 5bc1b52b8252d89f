"""Voice blends as Kokoro clients write them: ``"a+b"`` (equal parts) or ``"a(2)+b(1)"`` (weighted)."""

from __future__ import annotations

import re

from exceptions import InvalidRequestError

_PART = re.compile(r"^\s*([^()+]+?)\s*(?:\(\s*(\d+(?:\.\d+)?)\s*\))?\s*$")
MAX_PARTS = 8


def parse_blend(voice: str) -> list[tuple[str, float]] | None:
    """``"a(2)+b(1)"`` -> ``[("a", 2/3), ("b", 1/3)]`` (weights summing to 1); None when not a blend."""
    if "+" not in voice:
        return None
    parts = []
    for piece in voice.split("+"):
        match = _PART.match(piece)
        if match is None:
            raise InvalidRequestError(
                f"voice {voice!r}: {piece!r} is not a voice name with an optional weight like name(2)",
                param="voice",
                code="invalid_voice_blend",
            )
        parts.append((match.group(1), float(match.group(2) or 1)))
    total = sum(weight for _, weight in parts)
    if len(parts) > MAX_PARTS or total <= 0 or any(weight <= 0 for _, weight in parts):
        raise InvalidRequestError(
            f"voice {voice!r}: a blend is 2 to {MAX_PARTS} voices, each with a weight above 0",
            param="voice",
            code="invalid_voice_blend",
        )
    return [(name, weight / total) for name, weight in parts]


def blend_text(parts: list[tuple[str, float]]) -> str:
    """A blend written back with its (normalised) weights: ``a.wav(0.667)+b.wav(0.333)``."""
    return "+".join(f"{name}({weight:.4g})" for name, weight in parts)
