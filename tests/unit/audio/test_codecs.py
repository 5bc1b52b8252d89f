"""Every output format round-trips; the streaming encoder streams; bad input is a client error."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from exceptions import InvalidRequestError
from utils.audio import FORMATS, AudioEncoder, Clip, decode, encode, encode_stream, get_format


def tone(seconds: float = 1.5, rate: int = 24000, freq: float = 220.0) -> Clip:
    t = np.arange(int(seconds * rate)) / rate
    return Clip((0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@pytest.mark.parametrize("name", [n for n in FORMATS if n != "pcm"])
def test_every_format_round_trips_with_the_same_duration_and_level(name: str) -> None:
    clip = tone()
    data = encode(clip, name)
    back = decode(data)
    # Opus always decodes at 48 kHz; ADTS AAC carries no priming info, so its encoder delay shows.
    assert back.sample_rate == (48000 if name == "opus" else 24000)
    assert abs(back.duration - clip.duration) < (0.1 if name == "aac" else 0.03)
    assert abs(rms(back.samples) - rms(clip.samples)) < 0.03


def test_wav_is_16_bit_pcm() -> None:
    info = sf.info(io.BytesIO(encode(tone(), "wav")))
    assert (info.subtype, info.samplerate, info.channels) == ("PCM_16", 24000, 1)


def test_pcm_is_raw_16_bit_little_endian() -> None:
    clip = tone(0.5)
    data = encode(clip, "pcm")
    assert len(data) == 2 * len(clip.samples)
    back = np.frombuffer(data, dtype="<i2") / 32767
    assert np.allclose(back, clip.samples, atol=1e-4)


def test_opus_is_written_at_a_rate_it_supports() -> None:
    assert AudioEncoder("opus", 22050).sample_rate == 24000
    assert abs(decode(encode(tone(rate=22050), "opus")).duration - 1.5) < 0.03


@pytest.mark.parametrize("name", ["mp3", "opus", "aac", "wav", "pcm"])
def test_the_stream_encoder_hands_bytes_out_before_the_end(name: str) -> None:
    clip = tone(3.0)
    pieces = list(
        encode_stream((Clip(part, clip.sample_rate) for part in np.array_split(clip.samples, 30)), name)
    )
    assert len(pieces) > 5  # bytes flowed while the clips were still arriving
    data = b"".join(pieces)
    if name != "pcm":  # streamed MP3 has no Xing frame to tell decoders its encoder delay
        assert abs(decode(data).duration - clip.duration) < (0.1 if name == "aac" else 0.06)


def test_a_streamed_wav_header_says_unknown_length() -> None:
    encoder = AudioEncoder("wav", 24000)
    data = encoder.feed(tone(0.2).samples) + encoder.finish()
    assert data[:4] == b"RIFF" and data[4:8] == b"\xff\xff\xff\xff"


def test_stereo_input_is_mixed_to_mono() -> None:
    left = tone(1.0, 44100).samples
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([left, -left * 0], axis=1), 44100, format="FLAC")
    clip = decode(buffer.getvalue())
    assert clip.sample_rate == 44100 and clip.samples.ndim == 1
    assert abs(rms(clip.samples) - rms(left) / 2) < 0.01


@pytest.mark.parametrize("data", [b"", b"not audio at all" * 100, b"RIFF\x00\x00\x00\x00WAVEjunk"])
def test_undecodable_input_is_a_400_naming_the_field(data: bytes) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode(data, param="voice_file")
    assert caught.value.param == "voice_file"


def test_unknown_format_names_the_field() -> None:
    with pytest.raises(InvalidRequestError, match="choose one of: wav, mp3, flac, opus, aac, pcm") as caught:
        get_format("ogg-vorbis", param="export_formats")
    assert caught.value.param == "export_formats"
    assert get_format(" MP3 ").content_type == "audio/mpeg"


@pytest.mark.parametrize("rate", [16000, 22050, 24000, 44100, 48000])
@pytest.mark.parametrize("frames", [4_000, 66_667])
def test_mp3_files_decode_to_exactly_the_samples_encoded(rate: int, frames: int) -> None:
    """The LAME tag carries delay and padding: decoders cut both, so the length is exact and aligned."""
    t = np.arange(frames) / rate
    samples = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    data = encode(Clip(samples, rate), "mp3")
    assert data[:4] != b"ID3" and b"Info" in data[:64] and b"LAME" in data[:200]
    clip = decode(data)
    assert clip.sample_rate == rate and len(clip.samples) == frames
    assert np.max(np.abs(clip.samples - samples)) < 0.05  # no shift: a shifted sine differs by ~0.3


def test_an_mp3_written_into_a_file_has_the_tag_too(tmp_path: Path) -> None:
    samples = np.zeros(10_000, dtype=np.float32)
    path = tmp_path / "x.mp3"
    with path.open("wb") as handle:
        encoder = AudioEncoder("mp3", 24000, file=handle)
        for block in np.array_split(samples, 7):
            assert encoder.feed(block) == b""
        assert encoder.finish() == b""
    assert len(decode(path).samples) == 10_000
