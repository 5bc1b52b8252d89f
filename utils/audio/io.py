"""Reading and writing audio files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf

from utils.audio.clip import Clip


def decode_file(path: Path) -> Clip:
    """Read a wav/flac/ogg file into a mono clip at its own sample rate."""
    samples, rate = sf.read(str(path), dtype="float32", always_2d=False)
    return Clip(samples, rate)


def encode_wav(clip: Clip) -> bytes:
    """16-bit PCM WAV bytes of a clip (samples are clipped to [-1, 1])."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(clip.samples, -1.0, 1.0), clip.sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
