"""The real `openai` SDKs (Python, and JavaScript under node) against a live server: every format,
streaming, SSE, speed, errors, models.

The server runs offline, so Piper speaks; Whisper checks the words came out.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

from tests.conftest import similarity
from tests.support.live_server import live_server
from utils.audio import decode

TEXT = "The harbour was quiet that morning. Then the bell rang twice. Everyone ran down to the water."
JS = Path(__file__).resolve().parents[1] / "js"
FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
PIPER_RATE = 22050
# Piper draws its phoneme lengths at random on every request (by more than 0.3 s on this text); the
# server here sets piper.noise_w_scale 0, so each request for the same text lasts as long as the others.
# What is left: AAC's encoder priming and last-frame padding (up to 2 frames of 1,024 samples, 0.09 s).
SLACK = 0.12


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    with live_server(tmp_path_factory.mktemp("openai-server"), CHATTERBOX_PIPER__NOISE_W_SCALE="0") as base:
        yield openai.OpenAI(base_url=f"{base}/v1", api_key="any-key-works", max_retries=0)


@pytest.fixture(scope="module")
def spoken(client: openai.OpenAI) -> dict[str, bytes]:
    return {
        fmt: client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format=fmt).content
        for fmt in FORMATS
    }


def duration(fmt: str, data: bytes) -> float:
    if fmt == "pcm":  # raw 16-bit little-endian mono at the engine's rate
        return len(data) / 2 / PIPER_RATE
    return decode(data).duration


def test_every_format_decodes_with_the_same_duration(spoken: dict[str, bytes]) -> None:
    reference = duration("wav", spoken["wav"])
    assert reference > 4.0
    for fmt, data in spoken.items():
        assert duration(fmt, data) == pytest.approx(reference, abs=SLACK), fmt


def test_it_says_the_words(
    spoken: dict[str, bytes], tmp_path: Path, transcribe: Callable[[Path], str]
) -> None:
    path = tmp_path / "speech.mp3"
    path.write_bytes(spoken["mp3"])
    assert similarity(transcribe(path), TEXT) > 0.8


def test_streaming_response_arrives_in_pieces(client: openai.OpenAI, spoken: dict[str, bytes]) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="pcm"
    ) as response:
        assert response.headers["content-type"] == "audio/pcm"
        pieces = [piece for piece in response.iter_bytes(chunk_size=None) if piece]
    assert len(pieces) >= 2  # sentence by sentence, not one block at the end
    assert duration("pcm", b"".join(pieces)) == pytest.approx(duration("pcm", spoken["pcm"]), abs=SLACK)


def test_speed_changes_the_duration(client: openai.OpenAI, spoken: dict[str, bytes]) -> None:
    fast = client.audio.speech.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="wav", speed=2.0
    )
    assert duration("wav", fast.content) == pytest.approx(duration("wav", spoken["wav"]) / 2, rel=0.1)


def test_sse_events_carry_the_audio_then_usage(client: openai.OpenAI, spoken: dict[str, bytes]) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="pcm", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line[len("data: ") :]) for line in response.iter_lines() if line.startswith("data: ")
        ]
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert len(deltas) >= 2 and events[-1]["type"] == "speech.audio.done"
    audio = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    assert duration("pcm", audio) == pytest.approx(duration("pcm", spoken["pcm"]), abs=SLACK)
    usage = events[-1]["usage"]
    assert all(
        isinstance(usage[k], int) and usage[k] > 0 for k in ("input_tokens", "output_tokens", "total_tokens")
    )


def test_instructions_and_voices_are_understood(client: openai.OpenAI) -> None:
    raw = client.audio.speech.with_raw_response.create(
        model="gpt-4o-mini-tts", voice={"id": "nova"}, input="Hello.", instructions="Speak slowly and calmly."
    )
    assert raw.headers["x-voice-source"] == "openai"
    assert raw.headers["x-instructions-understood"] == "calm,slow"


def test_slow_instructions_slow_the_speech(client: openai.OpenAI, spoken: dict[str, bytes]) -> None:
    slow = client.audio.speech.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="wav", instructions="Read it slowly."
    )
    assert duration("wav", slow.content) / duration("wav", spoken["wav"]) == pytest.approx(1 / 0.85, rel=0.06)


def test_errors_surface_as_the_sdks_exceptions(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as too_long:
        client.audio.speech.create(model="tts-1", voice="alloy", input="x" * 4097)
    assert too_long.value.body["param"] == "input"
    with pytest.raises(openai.BadRequestError) as no_voice:
        client.audio.speech.create(model="tts-1", voice="nobody-at-all", input="Hello.")
    assert no_voice.value.body["param"] == "voice"
    # A model this server does not know is spoken by the serving engine (compat.strict_openai: a 404)
    unknown = client.audio.speech.with_raw_response.create(model="tts-9", voice="alloy", input="Hello.")
    assert unknown.headers["x-model-ignored"] == "tts-9"
    assert decode(unknown.content).duration > 0.2
    with pytest.raises(openai.BadRequestError) as bad_speed:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hello.", speed=9)
    assert bad_speed.value.body["param"] == "speed"


def test_models_are_listed(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "piper", "chatterbox"} <= set(ids)
    assert client.models.retrieve("tts-1").owned_by
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("whisper-1")


@pytest.mark.skipif(
    shutil.which("node") is None or not (JS / "node_modules" / "openai").is_dir(),
    reason="needs node and the openai JavaScript SDK: npm ci --prefix tests/js",
)
def test_the_javascript_sdk(client: openai.OpenAI, spoken: dict[str, bytes], tmp_path: Path) -> None:
    """The official `openai` npm package (pinned in tests/js/package.json): speech, a stream, models, errors."""
    run = subprocess.run(
        ["node", str(JS / "openai_speech.mjs"), str(client.base_url), str(tmp_path), TEXT],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    for fmt in ("mp3", "wav", "pcm"):
        heard = duration(fmt, (tmp_path / f"speech.{fmt}").read_bytes())
        assert heard == pytest.approx(duration(fmt, spoken[fmt]), abs=SLACK), fmt
    assert report["pcm_pieces"] >= 2  # the stream arrived sentence by sentence
    assert "tts-1" in report["models"]
    assert report["error"] == {
        "class": "BadRequestError",
        "status": 400,
        "param": "voice",
        "code": "voice_not_found",
    }
