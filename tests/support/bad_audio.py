"""A corpus of hostile or broken audio files, built in memory (nothing is committed).

Each item is ``(name, file name, bytes)``. Every one of them is a file a user (or an attacker) can send
to an upload route; the server must answer a correct result or a 4xx naming the field, never a 5xx.
"""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import soundfile as sf


def _wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def _tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    data = np.zeros((len(t), channels), dtype=np.float32)
    data[:, 0] = 0.5 * np.sin(2 * np.pi * 330 * t)
    return data


def _header(rate: int, channels: int, data_bytes: int, bits: int = 16) -> bytes:
    """A canonical 44-byte PCM WAV header; ``data_bytes`` may lie about what follows."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", min(36 + data_bytes, 0xFFFFFFFF))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", min(data_bytes, 0xFFFFFFFF))
    )


def _mp3(seconds: float = 1.0, rate: int = 24000) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        pcm = (_tone(seconds, rate)[:, 0] * 32767).astype(np.int16)
        for start in range(0, len(pcm), 1152):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + 1152], format="s16", layout="mono")
            frame.sample_rate = rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def _silent_flac(seconds: float, rate: int) -> bytes:
    """A long silent file that compresses to almost nothing."""
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", samplerate=rate, channels=1, format="FLAC") as out:
        block = np.zeros(rate * 60, dtype=np.float32)
        for _ in range(int(seconds // 60)):
            out.write(block)
    return buffer.getvalue()


def corpus() -> list[tuple[str, str, bytes]]:
    """The bad-audio corpus of issue 18: broken, lying, hostile and extreme files."""
    good = _wav(_tone(1.5, 24000), 24000)
    nan = _tone(1.5, 24000)
    nan[100, 0] = np.nan
    mp3 = _mp3()
    return [
        ("empty", "empty.wav", b""),
        ("truncated-wav", "truncated.wav", good[:30]),
        ("truncated-mp3", "truncated.mp3", mp3[:300]),
        ("text-as-wav", "notes.wav", b"this is a text file, not audio\n" * 40),
        ("header-claims-hours", "hours.wav", _header(24000, 1, 24000 * 2 * 3600 * 5) + good[44:]),
        ("huge-sample-rate", "rate.wav", _header(4_000_000, 1, len(good) - 44) + good[44:]),
        ("nan-float", "nan.wav", _wav(nan, 24000, "FLOAT")),
        ("eight-channels", "eight.wav", _wav(_tone(1.5, 24000, channels=8), 24000)),
        ("192khz", "hirate.wav", _wav(_tone(1.5, 192000), 192000)),
        ("one-hour-silent", "silent.flac", _silent_flac(3600, 8000)),
        ("one-sample", "one.wav", _wav(np.zeros((1, 1), dtype=np.float32), 24000)),
    ]


def tone_wav(seconds: float, rate: int = 24000) -> bytes:
    """A plain, valid 16-bit WAV of a tone: the control item (and a usable voice or input)."""
    return _wav(_tone(seconds, rate), rate)
