"""Voice conversion: the request body."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import OutputFields, example
from parameters import VC_OVERLAP_SECONDS, VC_WINDOW_SECONDS, Seed, VcOverlap, VcWindow


class VCRequest(OutputFields):
    """Body of ``POST /api/v1/vc`` (JSON form)."""

    model_config = example(
        input_audio_source="line.wav", target_voice_source="narrator", export_formats=["wav"]
    )

    input_audio_source: str | None = Field(
        None,
        description="The clip to re-voice: a file in vc_inputs/, or a URL. Or upload `input_audio` (multipart).",
    )
    chunk_sec: VcWindow = Field(
        VC_WINDOW_SECONDS, description="Inputs longer than this (seconds) are converted in windows, 1-300."
    )
    overlap_sec: VcOverlap = Field(
        VC_OVERLAP_SECONDS, description="Overlap between windows, crossfaded when joining (seconds), 0-5."
    )
    save_input: bool = Field(
        True, description="Multipart: keep the uploaded `input_audio` in vc_inputs/ (under `project`)."
    )
    target_voice_source: str | None = Field(
        None, description="The voice to speak with: a file in voices/. Omitted: the built-in voice."
    )
    seed: Seed | None = Field(None, description="Seed for repeatable output; 0 or omitted picks one.")
    disable_watermark: bool | None = Field(
        None, description="Skip the Perth watermark. Default: from config."
    )
