"""An engine replica of the Ray Serve application (serving/replica.py), run here without Ray: its Piper
threads follow the CPUs Ray gives it, Serve's stop unloads its engines, and it warms its own voices."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from engines.base import SynthesisParams
from engines.manager import EngineManager
from engines.piper import PiperEngine, bundled_voices, load_voice
from exceptions import ConfigError
from serving import replica as replica_module
from serving.replica import EngineReplica, group_settings
from serving.warm import warm_voices
from tests.support.engines import PreparingEngine, plant_warm_voices

PIPER_ONLY = {"enabled": ["piper"], "default": "piper", "fallback": None}
# Serve awaits a replica's async __del__; Python's own finalizer, when the test drops it, cannot.
UNAWAITED_DEL = pytest.mark.filterwarnings("ignore:coroutine 'EngineReplica.__del__':RuntimeWarning")


@pytest.mark.parametrize(("cpus", "threads"), [(1.0, 1), (2.0, 2), (0.5, 1), (None, 0)])
def test_a_replica_gives_piper_one_thread_per_cpu_it_holds(
    make_settings: Callable[..., Settings], cpus: float | None, threads: int
) -> None:
    settings = group_settings(make_settings(engines=PIPER_ONLY), ["piper"], cpus)
    assert settings.piper.intra_op_threads == threads
    assert settings.engines.enabled == ["piper"]


def test_threads_set_in_the_config_win_over_the_replica_cpus(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(engines=PIPER_ONLY, piper={"intra_op_threads": 3})
    assert group_settings(settings, ["piper"], 1.0).piper.intra_op_threads == 3


def test_a_piper_voice_runs_with_the_threads_asked_for(make_settings: Callable[..., Settings]) -> None:
    path = next(iter(bundled_voices().values()))
    assert load_voice(path, 1).session.get_session_options().intra_op_num_threads == 1
    settings = make_settings(engines=PIPER_ONLY, piper={"intra_op_threads": 1})
    clip = PiperEngine(settings.piper).synthesize("One thread speaks too.", None, SynthesisParams())
    assert clip.sample_rate == 22050
    assert len(clip.samples) / clip.sample_rate > 0.8  # real speech, not an empty clip


def test_the_config_refuses_a_negative_thread_count(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match=r"piper\.intra_op_threads"):
        make_settings(piper={"intra_op_threads": -1})


@pytest.fixture
def replica(make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> EngineReplica:
    """A Piper replica as Serve builds one, with Ray's facts about it (id, CPUs) given here."""
    monkeypatch.setattr(EngineReplica, "_who", staticmethod(lambda: {"replica": "r1", "pid": 1}))
    monkeypatch.setattr(replica_module, "replica_cpus", lambda: 1.0)
    return EngineReplica(make_settings(engines=PIPER_ONLY), ["piper"], str(Path.cwd()))


def _model_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.is_alive() and "piper" in t.name.lower()]


@UNAWAITED_DEL
def test_when_serve_stops_a_replica_its_engines_are_unloaded_and_threads_stopped(
    replica: EngineReplica,
) -> None:
    async def scenario() -> tuple[Any, Any, list[str], bool, list[str]]:
        spoken = await replica.synthesize("piper", "Hello from a replica.", None, SynthesisParams())
        engine = replica._manager.engine("piper")
        threads_before = _model_threads()
        await replica.__del__()  # what Serve calls when it stops the replica
        await replica.shutdown()  # a second stop does nothing
        return spoken, replica._manager.info("piper"), threads_before, engine.loaded, _model_threads()

    spoken, info, threads_before, loaded, threads_after = asyncio.run(scenario())
    assert spoken.error is None and spoken.value.sample_rate == 22050
    assert threads_before, "the engine's worker thread should be named after it"
    assert replica.stopped
    assert info["state"] == "unloaded" and not loaded
    assert threads_after == []


@UNAWAITED_DEL
def test_a_replica_never_started_stops_cleanly(replica: EngineReplica) -> None:
    asyncio.run(replica.shutdown())
    assert replica.stopped


def test_each_replica_warms_the_configured_voices_when_its_engine_loads(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    plant_warm_voices(tmp_path)
    settings = make_settings(models={"warm_voices": ["narrator", "books/anna", "missing"]})

    async def one_replica() -> list[str]:
        engine = PreparingEngine()
        manager = EngineManager({"tone": engine}, settings.engines, settings.models)
        manager.on_ready(lambda name: warm_voices(manager, settings, name))
        manager.start()
        try:
            await manager.ensure_loaded("tone")
            deadline = time.monotonic() + 30
            while len(engine.prepared) < 2:
                assert time.monotonic() < deadline, engine.prepared
                await asyncio.sleep(0.05)
        finally:
            await manager.stop()
        return engine.prepared

    # Two replicas, two caches: each conditions the voices itself (a missing one is logged and skipped).
    assert asyncio.run(one_replica()) == ["narrator.wav", "anna.wav"]
    assert asyncio.run(one_replica()) == ["narrator.wav", "anna.wav"]
