"""Output names: Plus's file stems for TTS and VC results (timestamp first, then what was not default)."""

from __future__ import annotations

import re
from pathlib import Path

from core.requests import ConversionRequest, SpeechRequest
from engines.base import SynthesisParams
from management.outputs import timestamp
from parameters import VC_OVERLAP_SECONDS, VC_WINDOW_SECONDS


def short_tag(stem: str) -> str:
    """Plus's voice tag in VC names: word characters and dashes, at most 10."""
    return re.sub(r"[^\w-]", "", stem)[:10]


def vc_stem(request: ConversionRequest) -> str:
    """Plus's name: ``vc_<ts>[_chunk<n>][_overlap<x>][_voice<target>]`` (chunk/overlap when not default)."""
    stem = f"vc_{timestamp()}"
    if request.chunk_sec != VC_WINDOW_SECONDS:
        stem += f"_chunk{request.chunk_sec:g}"
    if request.overlap_sec != VC_OVERLAP_SECONDS:
        stem += f"_overlap{request.overlap_sec:g}"
    if request.target_voice:
        stem += f"_voice{short_tag(Path(request.target_voice).stem)}"
    return stem


def tts_stem(request: SpeechRequest, params: SynthesisParams) -> str:
    """Plus's name: ``tts_<ts>_temp<t>[_seed<s>][_exag<x>][_speed<f>][_trim<ms>]`` (seed only if asked for)."""
    stem = f"tts_{timestamp()}_temp{params.temperature}"
    if request.seed:
        stem += f"_seed{request.seed}"
    if params.exaggeration != 0.5:
        stem += f"_exag{params.exaggeration}"
    if request.output.post.speed_factor != 1.0:
        stem += f"_speed{request.output.post.speed_factor}"
    if request.output.post.trim:
        stem += f"_trim{request.output.post.trim_threshold_ms:g}"
    return stem
