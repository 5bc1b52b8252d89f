"""The Ray Serve stand-in engines without a cluster: errors keep their class, a dead replica is a 503."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from engines.base import SynthesisParams
from engines.worker import Cancelled
from exceptions import InvalidRequestError, NotFoundError, ServerBusyError
from utils.audio import Clip

pytest.importorskip("ray", reason="Ray is an optional extra: uv sync --frozen --extra ray")

from ray.exceptions import ActorDiedError
from ray.serve.exceptions import BackPressureError

from engines.piper import PiperEngine
from serving.outcome import Outcome
from serving.proxy import ServeVoicedEngine, proxy_for


class Response:
    def __init__(self, steps: list[Any]) -> None:
        self.steps, self.cancelled = steps, False

    def result(self, timeout_s: float) -> Any:
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    def cancel(self) -> None:
        self.cancelled = True


class Handle:
    """Answers each method's calls with the given steps (values, or exceptions raised)."""

    def __init__(self, steps: list[Any]) -> None:
        self.response = Response(steps)
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, method: str) -> Any:
        handle = self

        class Method:
            def remote(self, *args: Any) -> Response:
                handle.calls.append((method, *args))
                return handle.response

        return Method()


def piper_proxy(steps: list[Any], tmp_path: Path) -> Any:
    from config import PiperSettings

    twin = PiperEngine(PiperSettings(voices_dir=tmp_path), 300)
    return proxy_for(twin, Handle(steps), "PiperEngines", 8)


def test_a_stand_in_has_its_engines_facts_and_calls_a_replica(tmp_path: Path) -> None:
    clip = Clip([0.1] * 2205, 22050)
    proxy = piper_proxy([TimeoutError(), Outcome(clip)], tmp_path)
    assert isinstance(proxy, ServeVoicedEngine) and proxy.kind == "tts" and proxy.max_chunk_chars == 300
    assert proxy.traits.loads_on_worker and proxy.traits.concurrency == 8 and proxy.memory_bytes() == 0
    assert "en" in proxy.languages and proxy.has_voice(next(iter(proxy.voices())))
    got = proxy.synthesize("Hello.", None, SynthesisParams())
    assert got.duration == pytest.approx(0.1) and proxy._handle.calls[0][:3] == (
        "synthesize",
        "piper",
        "Hello.",
    )


def test_a_replicas_error_is_raised_again_as_the_same_class(tmp_path: Path) -> None:
    proxy = piper_proxy([Outcome.failed(NotFoundError("no voice 'x'", param="voice"))], tmp_path)
    with pytest.raises(NotFoundError) as found:
        proxy.synthesize("Hello.", "x", SynthesisParams())
    assert found.value.param == "voice" and found.value.status_code == 404
    busy = Outcome.failed(ServerBusyError("full", retry_after=7, param="engine"))
    with pytest.raises(ServerBusyError) as full:
        busy.unwrap()
    assert full.value.headers == {"Retry-After": "7"}
    with pytest.raises(InvalidRequestError):
        Outcome.failed(InvalidRequestError("bad", param="text")).unwrap()


@pytest.mark.parametrize(
    "failure", [ActorDiedError(), BackPressureError(num_queued_requests=9, max_queued_requests=8)]
)
def test_a_dead_or_full_replica_is_a_503_to_retry(tmp_path: Path, failure: Exception) -> None:
    proxy = piper_proxy([failure], tmp_path)
    with pytest.raises(ServerBusyError) as busy:
        proxy.synthesize("Hello.", None, SynthesisParams())
    assert busy.value.status_code == 503 and busy.value.param == "engine" and busy.value.retry_after >= 1


def test_a_caller_that_goes_away_cancels_the_replicas_call(tmp_path: Path) -> None:
    import contextvars

    from engines import worker

    proxy = piper_proxy([TimeoutError(), TimeoutError()], tmp_path)
    gone = threading.Event()
    gone.set()
    context = contextvars.copy_context()
    context.run(worker._cancel.set, gone)
    with pytest.raises(Cancelled):
        context.run(proxy.synthesize, "Hello.", None, SynthesisParams())
    assert proxy._handle.response.cancelled


def test_chunks_spoken_together_go_to_one_replica_in_one_call(tmp_path: Path) -> None:
    """Chatterbox with our loop speaks consecutive chunks together (``VocodesTogether``): its stand-in
    does too, one call for the group; with upstream's loop it speaks chunk by chunk."""
    from config import ModelSettings
    from engines.base import VocodesTogether
    from engines.chatterbox import ChatterboxTTSEngine
    from serving.proxy import ServeGroupingEngine

    pieces = [(Clip([0.1] * 2400, 24000), []), (Clip([0.2] * 4800, 24000), ["cut at its budget"])]
    proxy = proxy_for(
        ChatterboxTTSEngine(ModelSettings(), 300), Handle([Outcome(pieces)]), "ChatterboxEngines", 8
    )
    assert isinstance(proxy, ServeGroupingEngine) and isinstance(proxy, VocodesTogether)
    assert proxy.vocode_group_chars == ModelSettings().vocode_group_chars
    voice = tmp_path / "v.wav"
    params = [SynthesisParams(seed=1), SynthesisParams(seed=2)]
    got = proxy.synthesize_group(["One.", "Two."], voice, params)
    assert [(clip.duration, notes) for clip, notes in got] == [(0.1, []), (0.2, ["cut at its budget"])]
    assert proxy._handle.calls == [
        ("synthesize_group", "chatterbox", ["One.", "Two."], voice.resolve(), params)
    ]
    upstream = proxy_for(ChatterboxTTSEngine(ModelSettings(t3_loop="upstream"), 300), Handle([]), "C", 8)
    assert not isinstance(upstream, ServeGroupingEngine)
