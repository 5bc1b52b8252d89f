"""Decoding any common audio file (wav, mp3, flac, ogg/opus, m4a/aac, webm) to a mono clip."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from exceptions import InvalidRequestError
from utils.audio.clip import Clip


def decode(source: Path | bytes | BinaryIO, *, param: str = "audio") -> Clip:
    """Decode the first audio stream, mixed down to mono float32 at its own sample rate.

    Undecodable input raises InvalidRequestError naming ``param`` (a client error, never a 500).
    """
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    name = source.name if isinstance(source, Path) else param
    try:
        with av.open(str(opened) if isinstance(opened, Path) else opened, mode="r") as container:
            if not container.streams.audio:
                raise InvalidRequestError(f"{name} has no audio stream", param=param)
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate
            # Planar float keeps the channels apart; averaging them (rather than FFmpeg's -3 dB
            # per-channel downmix) keeps identical channels at their level.
            resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=rate)
            parts = [
                out.to_ndarray().mean(axis=0, dtype=np.float32)
                for frame in [*container.decode(stream), None]
                for out in resampler.resample(frame)
            ]
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError(f"{name} could not be decoded as audio: {exc}", param=param) from exc
    samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    if samples.size == 0:
        raise InvalidRequestError(f"{name} holds no audio", param=param)
    return Clip(samples, rate)
