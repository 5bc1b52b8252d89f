"""Voice blends as Kokoro clients send them (``"a+b"``, ``"a(2)+b(1)"``), on every speech route.

An engine that blends (Chatterbox; here a double that records what it is given) gets the library
files and their weights; one that cannot (Piper) answers a 400 naming ``voice``. The mixing itself,
on the real modules, is in tests/slow/test_chatterbox_real_modules.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from engines.base import SynthesisParams, VoiceBlend
from tests.support.compat import CLONING, start, upload_voice
from tests.support.engines import ToneEngine
from utils.audio import Clip, decode


class BlendingTone(ToneEngine):
    """A cloning tone engine that says it blends, and keeps the blends it was given."""

    blends_voices = True

    def __init__(self) -> None:
        super().__init__(clones_voices=True)
        self.blends: list[VoiceBlend] = []

    def synthesize(self, text: str, voice: Path | str | VoiceBlend | None, params: SynthesisParams) -> Clip:
        if isinstance(voice, VoiceBlend):
            assert all(path.is_file() for path, _ in voice.parts)
            self.blends.append(voice)
            voice = voice.first
        return super().synthesize(text, voice, params)


@pytest.fixture
def blending(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, BlendingTone]]:
    engine = BlendingTone()
    settings = make_settings(engines=CLONING, openai={"voices": {"nova": "bob", "alloy": "anna"}})
    with start(settings, {"chatterbox": engine}) as client:
        upload_voice(client, "anna.wav")
        upload_voice(client, "bob.wav")
        yield client, engine


def weights(blend: VoiceBlend) -> list[tuple[str, float]]:
    return [(path.name, round(weight, 4)) for path, weight in blend.parts]


def test_kokoro_blends_reach_the_engine_with_their_weights(blending: tuple[TestClient, BlendingTone]) -> None:
    client, engine = blending
    for voice, expected in (
        ("anna+bob", [("anna.wav", 0.5), ("bob.wav", 0.5)]),
        ("anna(2)+bob(1)", [("anna.wav", 0.6667), ("bob.wav", 0.3333)]),
        ("alloy(3) + nova(1)", [("anna.wav", 0.75), ("bob.wav", 0.25)]),  # OpenAI names through their aliases
    ):
        response = client.post(
            "/v1/audio/speech", json={"model": "kokoro", "input": "Mixed.", "voice": voice}
        )
        assert response.status_code == 200, (voice, response.text)
        assert response.headers["x-voice-source"] == "blend"
        assert decode(response.content).duration == pytest.approx(3.0, abs=0.1)
        assert weights(engine.blends[-1]) == expected, voice
    saved = client.post("/api/v1/tts?response_mode=url", json={"text": "Saved.", "voice": "bob(1)+anna(1)"})
    assert saved.status_code == 200, saved.text
    assert weights(engine.blends[-1]) == [("bob.wav", 0.5), ("anna.wav", 0.5)]
    used = {v["filename"]: v["usage_count"] for v in client.get("/api/v1/voices").json()["voices"]}
    assert used == {"anna.wav": 4, "bob.wav": 4}  # every part counted as used


def test_bad_blends_name_the_voice_field(blending: tuple[TestClient, BlendingTone]) -> None:
    client, engine = blending
    for voice, status, code in (
        ("anna+nobody", 400, "voice_not_found"),  # not a library voice, alias or OpenAI name
        ("anna(0)+bob", 400, "invalid_voice_blend"),
        ("anna(x)+bob", 400, "invalid_voice_blend"),
        ("+".join(["anna"] * 9), 400, "invalid_voice_blend"),
    ):
        response = client.post("/v1/audio/speech", json={"input": "Hi.", "voice": voice})
        assert response.status_code == status, (voice, response.text)
        assert response.json()["error"]["param"] == "voice" and response.json()["error"]["code"] == code
    missing = client.post("/api/v1/tts", json={"text": "Hi.", "voice": "anna+nobody"})
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "voice"
    assert engine.blends == []


def test_a_file_named_with_a_plus_is_a_voice_not_a_blend(blending: tuple[TestClient, BlendingTone]) -> None:
    client, engine = blending
    upload_voice(client, "duo+trio.wav")
    response = client.post("/v1/audio/speech", json={"input": "Hi.", "voice": "duo+trio.wav"})
    assert response.status_code == 200 and response.headers["x-voice-source"] == "library"
    assert engine.blends == [] and engine.voices_heard[-1].name == "duo+trio.wav"


def test_an_engine_that_cannot_blend_says_so(piper_client: TestClient) -> None:
    for route, body in (
        ("/v1/audio/speech", {"model": "piper", "input": "Hi.", "voice": "alloy+nova"}),
        ("/api/v1/tts", {"text": "Hi.", "voice": "a(2)+b(1)"}),
    ):
        response = piper_client.post(route, json=body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["param"], error["code"]) == ("voice", "voice_blend_unsupported")
        assert "piper" in error["message"]


def test_voices_named_with_brackets_can_be_blended(blending: tuple[TestClient, BlendingTone]) -> None:
    client, engine = blending
    upload_voice(client, "my(voice).wav")
    upload_voice(client, "take(2).wav")
    for voice, expected in (
        ("my(voice).wav+bob", [("my(voice).wav", 0.5), ("bob.wav", 0.5)]),
        ("my(voice)(3)+bob(1)", [("my(voice).wav", 0.75), ("bob.wav", 0.25)]),  # the weight after the name
        ("take(2)+anna", [("take(2).wav", 0.5), ("anna.wav", 0.5)]),  # the whole name wins over a weight
        ("take(2)(1)+anna(3)", [("take(2).wav", 0.25), ("anna.wav", 0.75)]),
    ):
        response = client.post("/v1/audio/speech", json={"input": "Mixed.", "voice": voice})
        assert response.status_code == 200, (voice, response.text)
        assert weights(engine.blends[-1]) == expected, voice
    alone = client.post("/v1/audio/speech", json={"input": "Alone.", "voice": "my(voice)"})
    assert alone.status_code == 200 and alone.headers["x-voice-source"] == "library"
    unknown = client.post("/v1/audio/speech", json={"input": "Hi.", "voice": "no(such)+bob"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_voice_blend"
