"""Reading an audio file's duration and sample rate from its headers, never decoding the whole file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av
import soundfile

logger = logging.getLogger(__name__)

_PCM_BYTES_PER_SECOND_PER_HZ = 2  # raw 16-bit mono, as the server writes `pcm`


@dataclass(frozen=True)
class AudioInfo:
    """What the headers say: seconds (None when they do not say) and samples per second."""

    duration: float | None
    sample_rate: int | None


def probe(path: Path, *, sample_rate: int | None = None) -> AudioInfo | None:
    """Duration and rate from the file's headers (libsndfile, then FFmpeg's container info).

    Raw ``.pcm`` has no header: its duration follows from the size when ``sample_rate`` is known.
    Returns None for a file neither library can open.
    """
    if path.suffix.lower() == ".pcm":
        if not sample_rate:
            return AudioInfo(None, None)
        return AudioInfo(path.stat().st_size / (_PCM_BYTES_PER_SECOND_PER_HZ * sample_rate), sample_rate)
    try:
        info = soundfile.info(str(path))
        if info.frames > 0 and info.samplerate > 0:
            return AudioInfo(info.frames / info.samplerate, int(info.samplerate))
    except (soundfile.LibsndfileError, RuntimeError, OSError):
        pass
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or None
            if stream.duration is not None and stream.time_base is not None:
                return AudioInfo(float(stream.duration * stream.time_base), rate)
            if container.duration is not None:  # microseconds, from headers or the bitrate
                return AudioInfo(container.duration / av.time_base, rate)
            return AudioInfo(None, rate)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        logger.debug("cannot read the headers of %s: %s", path, exc)
        return None
