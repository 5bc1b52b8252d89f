"""Generation parameters declared once: their ranges as constrained types (pydantic only).

The request schemas (``api/schemas/``), voice defaults, emotion profiles and ``config.py`` all use these
types, so a range is written in one place. The sampling fields themselves are those of
``engines.base.SynthesisParams``; lists of their names are derived from it, not typed out."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

Exaggeration = Annotated[float, Field(ge=0, le=2)]
EXAGGERATION = 0.5  # its default: engines.base.SynthesisParams and a new emotion profile
CfgWeight = Annotated[float, Field(ge=0, le=2)]
Temperature = Annotated[float, Field(ge=0.05, le=5)]
RepetitionPenalty = Annotated[float, Field(ge=1, le=3)]
Probability = Annotated[float, Field(ge=0, le=1)]
MinP = Probability
TopP = Probability
TopK = Annotated[int, Field(ge=1, le=6563)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
Speed = Annotated[float, Field(ge=0.25, le=4.0)]  # OpenAI's speed and a voice's default
SpeedFactor = Annotated[float, Field(ge=0.5, le=2.0)]  # post-processing speed_factor (TTS, VC)

# Voice conversion: inputs longer than a window are converted window by window, the windows overlapping
# by ``overlap`` seconds and crossfaded back together.
VC_WINDOW_SECONDS = 60.0
VC_OVERLAP_SECONDS = 0.1
VcWindow = Annotated[float, Field(ge=1, le=300)]
VcOverlap = Annotated[float, Field(ge=0, le=5)]
