"""The remote engine against a fake server: what it sends, how answers decode, how errors map."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from config import RemoteSettings
from engines.base import EngineTraits, SynthesisParams
from engines.remote import RemoteEngine
from exceptions import (
    EngineUnavailableError,
    InvalidRequestError,
    NotFoundError,
    RemoteError,
    ServerBusyError,
)

PARAMS = SynthesisParams(exaggeration=0.7, cfg_weight=0.3, temperature=0.9, seed=42, language="en")


def wav_bytes(seconds: float = 0.5, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    sf.write(
        buffer, np.full(int(seconds * rate), 0.25, dtype=np.float32), rate, format="WAV", subtype="PCM_16"
    )
    return buffer.getvalue()


def engine(
    answer: httpx.Response | Exception, seen: list[httpx.Request] | None = None, **config: Any
) -> RemoteEngine:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    settings = RemoteSettings(**{"base_url": "http://remote.test:9000/v1/", **config})
    return RemoteEngine("box", settings, transport=httpx.MockTransport(handle))


def test_it_posts_openais_speech_request_with_the_key_and_mapped_voice() -> None:
    seen: list[httpx.Request] = []
    remote = engine(
        httpx.Response(200, content=wav_bytes()),
        seen,
        api_key="sk-1",
        model="xtts",
        voices={"narrator": "female_01.wav"},
        send_extensions=True,
    )
    clip = remote.synthesize("Hello.", "narrator", PARAMS)
    assert clip.sample_rate == 16000 and clip.duration == pytest.approx(0.5)
    request = seen[0]
    assert str(request.url) == "http://remote.test:9000/v1/audio/speech"
    assert request.headers["authorization"] == "Bearer sk-1"
    body = json.loads(request.content)
    assert body == {
        "model": "xtts",
        "input": "Hello.",
        "voice": "female_01.wav",
        "response_format": "wav",
        "speed": 1.0,
        "exaggeration": 0.7,
        "cfg_weight": 0.3,
        "temperature": 0.9,
        "seed": 42,
        "language": "en",
    }
    assert remote.describe()["sample_rate"] == 16000


def test_voices_default_pass_through_or_404() -> None:
    remote = engine(httpx.Response(200), default_voice="nova")
    assert remote.remote_voice(None) == "nova"
    assert remote.remote_voice("echo") == "echo" and remote.has_voice("echo")
    strict = engine(httpx.Response(200), voices={"a": "b"}, pass_through_voices=False)
    assert strict.has_voice("a") and not strict.has_voice("echo")
    with pytest.raises(NotFoundError):
        strict.remote_voice("echo")
    assert "exaggeration" not in strict.request_body("Hi.", "a", PARAMS)  # send_extensions off


def test_pcm_answers_are_16_bit_at_the_configured_rate() -> None:
    samples = (np.full(2400, 0.5) * 32767).astype("<i2").tobytes()
    remote = engine(httpx.Response(200, content=samples), response_format="pcm", pcm_sample_rate=24000)
    clip = remote.synthesize("Hi.", None, PARAMS)
    assert clip.sample_rate == 24000 and clip.duration == pytest.approx(0.1)
    assert float(clip.samples.max()) == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize(
    ("answer", "error", "status", "param"),
    [
        (
            httpx.Response(400, json={"error": {"message": "bad voice", "param": "voice"}}),
            InvalidRequestError,
            400,
            "voice",
        ),
        (
            httpx.Response(422, json={"detail": [{"loc": ["body", "speed"], "msg": "too fast"}]}),
            InvalidRequestError,
            400,
            "speed",
        ),
        (
            httpx.Response(404, json={"error": {"message": "no such voice", "param": "voice"}}),
            NotFoundError,
            404,
            "voice",
        ),
        (httpx.Response(404, text="Not Found"), RemoteError, 502, None),
        (httpx.Response(401, json={"detail": "bad key"}), RemoteError, 502, None),
        (httpx.Response(429, headers={"retry-after": "7"}, text="slow down"), ServerBusyError, 503, "engine"),
        (httpx.Response(503, text="model loading"), EngineUnavailableError, 503, "engine"),
        (httpx.Response(500, text="kaboom"), RemoteError, 502, None),
        (httpx.Response(200, json={"not": "audio"}), RemoteError, 502, None),
        (httpx.ConnectError("connection refused"), EngineUnavailableError, 503, "engine"),
        (httpx.ReadTimeout("timed out"), RemoteError, 502, None),
    ],
)
def test_remote_errors_become_ours_naming_the_remote(
    answer: httpx.Response | Exception, error: type[Exception], status: int, param: str | None
) -> None:
    with pytest.raises(error) as raised:
        engine(answer).synthesize("Hi.", None, PARAMS)
    assert raised.value.status_code == status  # type: ignore[attr-defined]
    assert raised.value.param == param  # type: ignore[attr-defined]
    assert "remote 'box'" in raised.value.message  # type: ignore[attr-defined]
    if isinstance(raised.value, ServerBusyError):
        assert raised.value.retry_after == 7


def test_load_fails_with_the_reason_when_unreachable_or_the_key_is_refused() -> None:
    with pytest.raises(EngineUnavailableError, match="unreachable"):
        engine(httpx.ConnectError("connection refused")).load()
    with pytest.raises(EngineUnavailableError, match="api_key"):
        engine(httpx.Response(401, json={"error": {"message": "invalid key"}})).load()
    alive = engine(httpx.Response(404, text="no models here"))  # a server without /v1/models is alive
    alive.load()
    assert alive.loaded
    alive.unload()
    assert not alive.loaded


def test_the_manager_tries_a_failed_remote_again_after_the_pause() -> None:
    import asyncio

    from config import EngineSettings, ModelSettings
    from engines.manager import EngineManager

    class Flaky:
        name, kind = "remote:flaky", "tts"
        traits = EngineTraits(retry_after_failure=0.2)
        loaded = False
        tries = 0

        def load(self) -> None:
            self.tries += 1
            if self.tries == 1:
                raise EngineUnavailableError("remote 'flaky' is unreachable")
            self.loaded = True

        def unload(self) -> None: ...

        def describe(self) -> dict[str, Any]:
            return {}

    flaky = Flaky()
    manager = EngineManager({flaky.name: flaky}, EngineSettings(), ModelSettings(load_on_startup=False))

    async def scenario() -> None:
        for _ in range(2):  # the second comes within the pause: not tried again
            with pytest.raises(EngineUnavailableError, match="unreachable"):
                await manager.ensure_loaded(flaky.name)
        assert flaky.tries == 1
        await asyncio.sleep(0.25)
        assert await manager.ensure_loaded(flaky.name) is flaky
        assert manager.info(flaky.name)["state"] == "ready"
        await manager.stop()

    asyncio.run(scenario())
