"""Hostile audio is refused with a 4xx naming the field, never a crash: many channels, absurd headers,
NaN samples, and small files that would decode into gigabytes."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from exceptions import InvalidRequestError, PayloadTooLargeError
from utils.audio import decode
from utils.audio.decode import MAX_SAMPLE_RATE

ROOT = Path(__file__).resolve().parents[3]


def channels_wav(channels: int, rate: int = 24000, seconds: float = 0.5, subtype: str = "PCM_16") -> bytes:
    frames = int(rate * seconds)
    t = np.arange(frames) / rate
    tone = 0.4 * np.sin(2 * np.pi * 220 * t)
    # Channel 0 carries the tone, the others silence: the mono mix is the tone over the channel count.
    data = np.zeros((frames, channels), dtype=np.float32)
    data[:, 0] = tone
    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


@pytest.mark.parametrize("channels", [8, 12, 32])
def test_many_channels_decode_in_a_child_process_without_crashing(channels: int, tmp_path: Path) -> None:
    """FFmpeg's resampler segfaults on 8+ channels: run the decoder where a crash cannot take pytest down."""
    path = tmp_path / "many.wav"
    path.write_bytes(channels_wav(channels))
    script = (
        "import sys; from pathlib import Path; from utils.audio import decode; "
        "c = decode(Path(sys.argv[1])); print(c.sample_rate, len(c.samples), float(abs(c.samples).max()))"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    rate, length, peak = done.stdout.split()
    assert (int(rate), int(length)) == (24000, 12000)
    assert abs(float(peak) - 0.4 / channels) < 0.002


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_every_sample_format_is_scaled_to_the_same_level(subtype: str) -> None:
    clip = decode(channels_wav(2, subtype=subtype))
    assert abs(float(np.abs(clip.samples).max()) - 0.2) < 0.01


def test_a_header_claiming_a_huge_sample_rate_is_a_400() -> None:
    data = bytearray(channels_wav(1))
    assert data[12:16] == b"fmt "
    data[24:28] = struct.pack("<I", 2_000_000_000)  # sample rate
    data[28:32] = struct.pack("<I", 4_000_000_000)  # byte rate, consistent with it
    with pytest.raises(InvalidRequestError) as caught:
        decode(bytes(data), param="voice_file")
    assert caught.value.param == "voice_file"
    assert "sample rate" in str(caught.value) or "could not be decoded" in str(caught.value)


def test_rates_above_the_limit_are_refused_and_the_limit_itself_decodes() -> None:
    assert decode(channels_wav(1, rate=MAX_SAMPLE_RATE, seconds=0.1)).sample_rate == MAX_SAMPLE_RATE
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(1000, dtype=np.float32), 384_000, format="WAV")
    with pytest.raises(InvalidRequestError, match="384000 Hz") as caught:
        decode(buffer.getvalue(), param="input_audio")
    assert caught.value.param == "input_audio"


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_float_samples_are_a_400(bad: float) -> None:
    samples = np.full(2400, 0.1, dtype=np.float32)
    samples[100] = bad
    buffer = io.BytesIO()
    sf.write(buffer, samples, 24000, format="WAV", subtype="FLOAT")
    with pytest.raises(InvalidRequestError, match="NaN or infinite") as caught:
        decode(buffer.getvalue(), param="files[0]")
    assert caught.value.param == "files[0]"


def test_a_small_compressed_file_cannot_decode_past_the_length_limit() -> None:
    """Ten minutes of 192 kHz silence is a few hundred KB of FLAC; the decoder stops counting, not at the end."""
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(192_000 * 20, dtype=np.float32), 192_000, format="FLAC")
    assert len(buffer.getvalue()) < 200_000  # tiny on disk
    with pytest.raises(PayloadTooLargeError, match="too long") as caught:
        decode(buffer.getvalue(), param="voice_file", max_seconds=10)  # 10 s at 48 kHz = 2.5 s at 192 kHz
    assert caught.value.param == "voice_file"
    assert len(decode(buffer.getvalue(), max_seconds=80).samples) == 192_000 * 20


def test_decode_errors_name_the_file_not_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "secret-folder" / "broken.wav"
    path.parent.mkdir()
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(InvalidRequestError) as caught:
        decode(path, param="voice_file")
    assert "broken.wav" in str(caught.value)
    assert "secret-folder" not in str(caught.value)
