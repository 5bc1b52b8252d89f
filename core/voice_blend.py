"""Voice blends as Kokoro clients write them: ``"a+b"`` (equal parts) or ``"a(2)+b(1)"`` (weighted)."""

from __future__ import annotations

import re
from collections.abc import Callable

from exceptions import InvalidRequestError

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
MAX_PARTS = 8


def parse_blend(
    voice: str, exists: Callable[[str], bool] = lambda name: False
) -> list[tuple[str, float]] | None:
    """``"a(2)+b(1)"`` -> ``[("a", 2/3), ("b", 1/3)]`` (weights summing to 1); None when not a blend.

    A part whose whole text names a voice (``exists``) is that voice, brackets and all: ``my(2).wav+b``
    blends ``my(2).wav``, and ``take(2)+b`` means the voice ``take(2)`` when there is one (weigh it as
    ``take(2)(1)``). Names containing ``+`` cannot be blended.
    """
    if "+" not in voice:
        return None
    parts = [_part(voice, piece.strip(), exists) for piece in voice.split("+")]
    total = sum(weight for _, weight in parts)
    if len(parts) > MAX_PARTS or total <= 0 or any(weight <= 0 for _, weight in parts):
        raise InvalidRequestError(
            f"voice {voice!r}: a blend is 2 to {MAX_PARTS} voices, each with a weight above 0",
            param="voice",
            code="invalid_voice_blend",
        )
    return [(name, weight / total) for name, weight in parts]


def _part(voice: str, piece: str, exists: Callable[[str], bool]) -> tuple[str, float]:
    if piece and exists(piece):
        return piece, 1.0
    name, weight = _weighted(piece)
    if not name or name.startswith("(") or (weight is None and piece.endswith(")")):
        raise InvalidRequestError(
            f"voice {voice!r}: {piece!r} is neither a voice nor a voice name with a weight like name(2)",
            param="voice",
            code="invalid_voice_blend",
        )
    return name, 1.0 if weight is None else weight


def _weighted(piece: str) -> tuple[str, float | None]:
    """``name(2)`` -> ``("name", 2.0)``; the name may hold brackets (``my(v)(2)``); no weight: None.
    (No backtracking regex: the text is the client's and may be long.)"""
    opening = piece.rfind("(")
    if not piece.endswith(")") or opening < 0 or not _NUMBER.fullmatch(piece[opening + 1 : -1].strip()):
        return piece, None
    return piece[:opening].strip(), float(piece[opening + 1 : -1])


def blend_text(parts: list[tuple[str, float]]) -> str:
    """A blend written back with its (normalised) weights: ``a.wav(0.667)+b.wav(0.333)``."""
    return "+".join(f"{name}({weight:.4g})" for name, weight in parts)
