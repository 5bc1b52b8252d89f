"""Concatenation (``/api/v1/concat``): ``recipe`` (silence tokens, seeded pauses, the segment-by-segment
join), ``passes`` (headers checked first, then one pass to the encoders, or two through a scratch file
when the whole result is loudness-normalised) and ``service`` (``Concatenator``: resolving items, naming,
saving)."""

from core.concat.recipe import ConcatItem, ConcatOptions, parse_silence
from core.concat.service import Concatenator, ConcatJob, ConcatResult, ItemSpec

__all__ = [
    "ConcatItem",
    "ConcatJob",
    "ConcatOptions",
    "ConcatResult",
    "Concatenator",
    "ItemSpec",
    "parse_silence",
]
