"""Settings ``audio.*``: the mp3 bit rate and the WAV sample format, read back from the files a client gets."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from exceptions import ConfigError
from tests.support.compat import CLONING, start
from utils.audio.formats import configure_formats


@pytest.fixture(autouse=True)
def shipped_formats() -> Iterator[None]:
    """Every app sets the table from its settings; put the shipped one back for tests that encode alone."""
    yield
    configure_formats()


def mp3_bitrate(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        return int(container.streams.audio[0].bit_rate)


def wav_subtype(data: bytes) -> str:
    return str(sf.info(io.BytesIO(data)).subtype)


def saved(client: TestClient, text: str, formats: list[str]) -> dict[str, bytes]:
    """Speak through /api/v1/tts, then download each saved format as a client would."""
    answer = client.post("/api/v1/tts?response_mode=url", json={"text": text, "export_formats": formats})
    assert answer.status_code == 200, answer.text
    files = answer.json()["output_files"]
    return {entry["format"]: client.get(entry["url"]).content for entry in files}


def test_shipped_defaults_are_16_bit_wav_and_mp3_at_the_rates_limit(
    make_settings: Callable[..., Settings],
) -> None:
    with start(make_settings(engines=CLONING)) as client:
        files = saved(client, "Shipped defaults.", ["wav", "mp3"])
        assert wav_subtype(files["wav"]) == "PCM_16"
        # 24 kHz is MPEG-2, whose top rate is 160 kbit/s: the 192 asked for gives 160
        assert mp3_bitrate(files["mp3"]) == 160_000


def test_wav_format_and_mp3_bitrate_settings_reach_every_route(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(engines=CLONING, audio={"mp3_bitrate_kbps": 64, "wav_sample_format": "s24"})
    with start(settings) as client:
        files = saved(client, "Settings apply.", ["wav", "mp3"])
        assert wav_subtype(files["wav"]) == "PCM_24"
        assert mp3_bitrate(files["mp3"]) == 64_000
        spoken = client.post("/v1/audio/speech", json={"input": "Streamed.", "response_format": "mp3"})
        assert spoken.status_code == 200 and mp3_bitrate(spoken.content) == 64_000
        wav = client.post("/v1/audio/speech", json={"input": "Streamed.", "response_format": "wav"})
        assert wav.status_code == 200
        samples, rate = sf.read(io.BytesIO(wav.content))  # a streamed WAV of unknown length still decodes
        assert wav_subtype(wav.content) == "PCM_24" and rate == 24_000 and len(samples) > rate // 2
        assert client.get("/api/v1/config").json()["audio"] == {
            "mp3_bitrate_kbps": 64,
            "wav_sample_format": "s24",
        }


def test_plus_defaults_write_float_wav_and_320_kbps_mp3(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(engines=CLONING, compat={"plus_defaults": True})
    assert (settings.audio.mp3_bitrate_kbps, settings.audio.wav_sample_format) == (320, "float")
    with start(settings) as client:
        files = saved(client, "Plus defaults.", ["wav", "mp3"])
        assert wav_subtype(files["wav"]) == "FLOAT"
        audio, rate = sf.read(io.BytesIO(files["wav"]))
        assert rate == 24_000 and len(audio) > rate // 2 and np.abs(audio).max() > 0.05
        assert mp3_bitrate(files["mp3"]) == 160_000  # MPEG-2's most at 24 kHz, as Plus's 320k got too
        # a 44.1 kHz file (concatenated from outputs/) is MPEG-1: the full 320 kbit/s
        t = np.arange(44_100) / 44_100
        sf.write(Path(settings.paths.outputs_dir) / "cd.wav", 0.3 * np.sin(2 * np.pi * 220 * t), 44_100)
        joined = client.post(
            "/api/v1/concat",
            json={"files": ["cd.wav"], "export_formats": ["mp3"], "response_mode": "stream"},
        )
        assert joined.status_code == 200, joined.text
        assert mp3_bitrate(joined.content) == 320_000
    kept = make_settings(compat={"plus_defaults": True}, audio={"wav_sample_format": "s32"})
    assert kept.audio.wav_sample_format == "s32" and kept.audio.mp3_bitrate_kbps == 320  # a changed key stays


@pytest.mark.parametrize(
    ("audio", "key"),
    [({"mp3_bitrate_kbps": 300}, "mp3_bitrate_kbps"), ({"wav_sample_format": "f64"}, "wav_sample_format")],
)
def test_a_value_outside_the_choices_is_refused_naming_the_key(
    make_settings: Callable[..., Settings], audio: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError, match=rf"audio\.{key}: Input should be"):
        make_settings(audio=audio)
