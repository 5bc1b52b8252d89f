"""What an audio file holds, read from its headers (no full decode): rate, channels, duration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import soundfile

from exceptions import InvalidRequestError

# Containers whose headers libsndfile reads itself (quicker than opening them with FFmpeg).
_SOUNDFILE_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"})


@dataclass(frozen=True)
class AudioInfo:
    """An audio file's first audio stream, as its container describes it."""

    sample_rate: int
    channels: int
    duration: float | None  # seconds; None when the container does not say
    codec: str


def probe(path: Path, *, param: str = "audio", label: str | None = None) -> AudioInfo:
    """Read a file's headers; a file that is not audio is a 400 naming ``param`` (and the file as ``label``)."""
    name = label or path.name
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.audio:
                raise InvalidRequestError(f"{name} has no audio stream", param=param)
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                duration: float | None = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = None
            return AudioInfo(
                stream.codec_context.sample_rate,
                stream.codec_context.channels,
                duration,
                stream.codec_context.name,
            )
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        # FFmpeg's messages end with the file's full path: keep the reason only.
        reason = exc.strerror if isinstance(exc, av.error.FFmpegError) and exc.strerror else str(exc)
        raise InvalidRequestError(f"{name} could not be read as audio: {reason}", param=param) from exc


def header_readable(path: Path) -> bool:
    """Whether the file's audio header can be read: libsndfile first where it applies, PyAV otherwise.

    A file libsndfile refuses gets a second look from PyAV (a WAV holding a codec libsndfile
    lacks is still audio). Nothing is decoded.
    """
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        try:
            soundfile.info(str(path))
            return True
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
            pass
    try:
        info = probe(path)
    except (InvalidRequestError, OSError):
        return False
    return info.sample_rate > 0  # FFmpeg names a codec from the extension alone for some garbage
