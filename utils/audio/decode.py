"""Decoding any common audio file (wav, mp3, flac, ogg/opus, m4a/aac, webm) to a mono clip.

Decoding is bounded before it starts and while it runs: a header that claims an absurd sample rate or
channel count is refused, and a small compressed file cannot unpack into gigabytes of samples (the
decoded length is counted frame by frame). Channels are mixed down here, frame by frame, rather than
by FFmpeg's resampler, which crashes the process on 8 or more channels (PyAV 14-18).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from exceptions import InvalidRequestError, PayloadTooLargeError
from utils.audio.clip import Clip

# Highest sample rate accepted (studio masters go to 192 kHz; anything above is a broken or hostile header).
MAX_SAMPLE_RATE = 192_000
# Most channels accepted (FFmpeg's own limit is 64; 7.1.4 immersive audio is 12).
MAX_CHANNELS = 64
# The decoded length allowed, in seconds at 48 kHz: 30 minutes, about 330 MB of float32 samples.
MAX_SECONDS_AT_48K = 1800.0
_SAMPLE_BUDGET_RATE = 48_000

# Integer sample formats and the scale that maps them to [-1, 1).
_INT_SCALES = {"u8": 128.0, "s16": 32768.0, "s32": 2.0**31, "s64": 2.0**63}


def decode(
    source: Path | bytes | BinaryIO,
    *,
    param: str = "audio",
    label: str | None = None,
    max_seconds: float = MAX_SECONDS_AT_48K,
) -> Clip:
    """Decode the first audio stream, mixed down to mono float32 at its own sample rate.

    Undecodable input, a header out of bounds, and NaN or infinite samples raise InvalidRequestError
    naming ``param`` (a client error, never a 500); audio longer than ``max_seconds`` (counted at 48 kHz,
    so proportionally less at higher rates) raises PayloadTooLargeError (413). Messages call the audio
    ``label`` (default: the file's name, or ``param``), never by its path.
    """
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    name = label or (source.name if isinstance(source, Path) else param)
    try:
        with av.open(str(opened) if isinstance(opened, Path) else opened, mode="r") as container:
            if not container.streams.audio:
                raise InvalidRequestError(f"{name} has no audio stream", param=param)
            stream = container.streams.audio[0]
            rate = _checked_rate(stream.codec_context.sample_rate, name, param)
            _check_channels(stream.codec_context.channels, name, param)
            budget = int(max_seconds * _SAMPLE_BUDGET_RATE)
            parts: list[np.ndarray] = []
            decoded = 0
            for frame in container.decode(stream):
                _check_channels(len(frame.layout.channels), name, param)
                mono = _mono(frame)
                decoded += mono.size
                if decoded > budget:
                    raise PayloadTooLargeError(
                        f"{name} is too long: more than {budget / rate:.0f} s of audio at {rate} Hz",
                        param=param,
                    )
                parts.append(mono)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        # FFmpeg's messages end with the file's full path: keep the reason only.
        reason = exc.strerror if isinstance(exc, av.error.FFmpegError) and exc.strerror else str(exc)
        raise InvalidRequestError(f"{name} could not be decoded as audio: {reason}", param=param) from exc
    samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    del parts
    check_usable(samples, rate, name=name, param=param)
    return Clip(samples, rate)


def check_usable(samples: np.ndarray, rate: int, *, name: str, param: str, min_seconds: float = 0.0) -> None:
    """Refuse audio a model cannot use: empty, shorter than ``min_seconds``, or holding NaN/infinity."""
    if samples.size == 0:
        raise InvalidRequestError(f"{name} holds no audio", param=param)
    if samples.size < min_seconds * rate:
        raise InvalidRequestError(
            f"{name} is {samples.size / rate:.3f} s long; at least {min_seconds:g} s is needed", param=param
        )
    if not np.isfinite(samples).all():
        raise InvalidRequestError(f"{name} holds NaN or infinite samples", param=param)


def _checked_rate(rate: int, name: str, param: str) -> int:
    if not 0 < rate <= MAX_SAMPLE_RATE:
        raise InvalidRequestError(
            f"{name} has a sample rate of {rate} Hz; accepted: 1 to {MAX_SAMPLE_RATE} Hz", param=param
        )
    return rate


def _check_channels(channels: int, name: str, param: str) -> None:
    if not 0 < channels <= MAX_CHANNELS:
        raise InvalidRequestError(
            f"{name} has {channels} channels; accepted: 1 to {MAX_CHANNELS}", param=param
        )


def _mono(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as mono float32: each sample format scaled to [-1, 1], channels averaged.

    Averaging (rather than FFmpeg's -3 dB per-channel downmix) keeps identical channels at their level.
    """
    fmt = frame.format
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    # Packed formats come as one interleaved row; planar ones as one row per channel.
    data = data.reshape(channels, -1) if fmt.is_planar else data.reshape(-1, channels).T
    base = fmt.name.rstrip("p")
    if base in _INT_SCALES:
        values = data.astype(np.float32)
        if base == "u8":
            values -= 128.0
        values /= np.float32(_INT_SCALES[base])
    else:  # flt, dbl
        values = data.astype(np.float32, copy=False)
    return values.mean(axis=0, dtype=np.float32) if channels > 1 else values[0].copy()
