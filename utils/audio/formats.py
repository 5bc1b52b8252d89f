"""The one table of output formats: codec, container, content type, extension, bitrate."""

from __future__ import annotations

from dataclasses import dataclass, replace

from exceptions import InvalidRequestError


@dataclass(frozen=True)
class AudioFormat:
    """How to write one output format with FFmpeg (through PyAV)."""

    name: str
    extension: str
    content_type: str
    container: str | None  # FFmpeg muxer; None: raw samples, no container
    codec: str | None
    bitrate: int | None = None  # bits per second, for lossy codecs
    sample_rates: tuple[int, ...] | None = None  # None: any rate
    stream_options: tuple[tuple[str, str], ...] = ()  # muxer options when streaming (low latency)

    def output_rate(self, rate: int) -> int:
        """The rate the codec will write for input at ``rate``: the same, or the nearest it supports above."""
        if not self.sample_rates or rate in self.sample_rates:
            return rate
        higher = [r for r in sorted(self.sample_rates) if r >= rate]
        return higher[0] if higher else max(self.sample_rates)


FORMATS: dict[str, AudioFormat] = {
    f.name: f
    for f in (
        AudioFormat("wav", "wav", "audio/wav", "wav", "pcm_s16le"),
        AudioFormat(
            "mp3",
            "mp3",
            "audio/mpeg",
            "mp3",
            "libmp3lame",  # encoded by utils/audio/mp3.py (lameenc) at the rates MP3 has
            192_000,
            (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
        ),
        AudioFormat("flac", "flac", "audio/flac", "flac", "flac"),
        AudioFormat(
            "opus",
            "opus",
            "audio/opus",
            "ogg",
            "libopus",
            64_000,
            (8000, 12000, 16000, 24000, 48000),
            stream_options=(("page_duration", "100000"),),  # an Ogg page every 100 ms, not every second
        ),
        AudioFormat(
            "aac",
            "aac",
            "audio/aac",
            "adts",
            "aac",
            128_000,
            (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000),
        ),
        AudioFormat("pcm", "pcm", "audio/pcm", None, None),  # raw 16-bit signed little-endian mono
    )
}


# WAV sample formats (setting ``audio.wav_sample_format``) -> FFmpeg's PCM codec in the WAV container.
WAV_CODECS = {"s16": "pcm_s16le", "s24": "pcm_s24le", "s32": "pcm_s32le", "float": "pcm_f32le"}
DEFAULT_MP3_BITRATE = 192_000
DEFAULT_WAV_SAMPLES = "s16"


def configure_formats(
    *, mp3_bitrate: int = DEFAULT_MP3_BITRATE, wav_samples: str = DEFAULT_WAV_SAMPLES
) -> None:
    """Set how every mp3 and WAV in this process is written (settings ``audio.*``, applied by the server).

    One table for the process, as the server writes with one configuration; ``configure_formats()``
    restores the shipped defaults (192 kbit/s, 16-bit WAV).
    """
    if wav_samples not in WAV_CODECS:
        raise ValueError(f"unknown WAV sample format {wav_samples!r}; choose one of: {', '.join(WAV_CODECS)}")
    FORMATS["mp3"] = replace(FORMATS["mp3"], bitrate=mp3_bitrate)
    FORMATS["wav"] = replace(FORMATS["wav"], codec=WAV_CODECS[wav_samples])


def get_format(name: str, *, param: str = "format") -> AudioFormat:
    """Look a format up by name (case-insensitive); 400 naming ``param`` when unknown."""
    found = FORMATS.get(name.lower().strip())
    if found is None:
        raise InvalidRequestError(
            f"unsupported audio format {name!r}; choose one of: {', '.join(FORMATS)}", param=param
        )
    return found
