"""The memory budget: least recently used idle engines unloaded first, busy ones never, shared weights."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import pytest

from config import EngineSettings, ModelSettings
from engines.base import EngineTraits
from engines.manager import EngineManager
from engines.memory import MB, module_bytes


class Weights:
    """A fake local engine holding ``mb`` MB of weights while loaded."""

    kind: Literal["tts", "vc"] = "tts"
    traits = EngineTraits()

    def __init__(self, name: str, mb: float, *, estimate: bool = True) -> None:
        self.name, self.size, self.estimate = name, int(mb * MB), estimate
        self.loaded = False
        self.loads = 0

    def load(self) -> None:
        self.loaded = True
        self.loads += 1

    def unload(self) -> None:
        self.loaded = False

    def describe(self) -> dict[str, Any]:
        return {"device": "cpu"}

    def memory_bytes(self) -> int:
        return self.size if self.loaded else 0

    def estimated_bytes(self) -> int | None:
        return self.size if self.estimate else None


class Speaker(Weights):
    """Like Chatterbox TTS: T3 (200 MB) and an S3Gen (100 MB) that a converter may borrow."""

    traits = EngineTraits(worker_group="shared")

    def __init__(self) -> None:
        super().__init__("speaker", 300)
        self.s3gen: object | None = None

    def load(self) -> None:
        super().load()
        self.s3gen = object()

    def unload(self) -> None:
        super().unload()
        self.s3gen = None


class Converter(Weights):
    """Like Chatterbox VC: borrows the speaker's S3Gen when that is loaded (then holds nothing of its own)."""

    kind: Literal["tts", "vc"] = "vc"
    traits = EngineTraits(worker_group="shared")

    def __init__(self, speaker: Speaker) -> None:
        super().__init__("converter", 100)
        self.speaker = speaker
        self.s3gen: object | None = None

    def load(self) -> None:
        super().load()
        self.s3gen = self.speaker.s3gen or object()

    def unload(self) -> None:
        super().unload()
        self.s3gen = None

    def memory_bytes(self) -> int:
        borrowed = self.s3gen is not None and self.s3gen is self.speaker.s3gen
        return 0 if self.s3gen is None or borrowed else self.size

    def estimated_bytes(self) -> int | None:
        return 0 if self.speaker.loaded else self.size


def manager(*engines: Weights, budget_mb: float, **models: Any) -> EngineManager:
    return EngineManager(
        {engine.name: engine for engine in engines},
        EngineSettings(default="piper", fallback=None, load_on_first_use=[]),
        ModelSettings(memory_budget_mb=budget_mb, load_on_startup=False, **models),
    )


def run(engines: EngineManager, scenario: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        try:
            await scenario()
        finally:
            await engines.stop()

    asyncio.run(main())


async def use(engines: EngineManager, name: str) -> None:
    """What a request does: load the engine if needed, then one model call."""
    await engines.ensure_loaded(name)
    await engines.call(name, lambda: None)
    await asyncio.sleep(0.01)  # distinct last-used times


def states(engines: EngineManager) -> dict[str, str]:
    return {info["name"]: info["state"] for info in engines.infos()}


def test_the_least_recently_used_engine_is_unloaded_before_a_third_loads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b, c = Weights("a", 100), Weights("b", 100), Weights("c", 100)
    engines = manager(a, b, c, budget_mb=250)

    async def scenario() -> None:
        await use(engines, "a")
        await use(engines, "b")
        await use(engines, "c")
        assert states(engines) == {"a": "unloaded", "b": "ready", "c": "ready"}
        report = engines.memory()
        assert report.resident == {"a": 0, "b": 100 * MB, "c": 100 * MB}
        assert report.budget_bytes == 250 * MB and report.warning is None

    with caplog.at_level(logging.INFO):
        run(engines, scenario)
    assert not a.loaded and b.loaded and c.loaded
    assert "engine a unloaded to make room for c: freed 100 MB" in caplog.text


def test_using_an_engine_again_changes_which_one_goes() -> None:
    a, b, c = Weights("a", 100), Weights("b", 100), Weights("c", 100)
    engines = manager(a, b, c, budget_mb=250)

    async def scenario() -> None:
        await use(engines, "a")
        await use(engines, "b")
        await use(engines, "a")  # b is now the least recently used
        await use(engines, "c")
        assert states(engines) == {"a": "ready", "b": "unloaded", "c": "ready"}
        await use(engines, "b")  # loads again, in place of a (used before c)
        assert states(engines) == {"a": "unloaded", "b": "ready", "c": "ready"}

    run(engines, scenario)
    assert b.loads == 2


def test_an_engine_with_a_request_admitted_is_never_unloaded() -> None:
    a, b, c = Weights("a", 100), Weights("b", 100), Weights("c", 100)
    engines = manager(a, b, c, budget_mb=250)

    async def scenario() -> None:
        await use(engines, "a")
        await use(engines, "b")
        async with engines.admit("a"):  # a, the least recently used, holds a request
            await use(engines, "c")
            assert states(engines) == {"a": "ready", "b": "unloaded", "c": "ready"}

    run(engines, scenario)


def test_an_engine_running_a_call_is_never_unloaded_and_the_load_goes_ahead_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b, c = Weights("a", 100), Weights("b", 100), Weights("c", 100)
    engines = manager(a, b, c, budget_mb=250)
    release = threading.Event()

    async def scenario() -> None:
        await use(engines, "a")
        await use(engines, "b")
        running_a = asyncio.ensure_future(engines.call("a", release.wait, 10))
        async with engines.admit("b"):  # b holds a request too
            await asyncio.sleep(0.05)
            await asyncio.wait_for(use(engines, "c"), 5)  # no deadlock, no failure
            assert states(engines) == {"a": "ready", "b": "ready", "c": "ready"}
            report = engines.memory()
            assert report.total == 300 * MB
            assert report.warning and "a, b in use" in report.warning
        release.set()
        await running_a
        assert a.loaded  # the call it was running finished on loaded weights

    with caplog.at_level(logging.WARNING):
        run(engines, scenario)
    assert "engines hold 300 MB of the 250 MB memory budget" in caplog.text


def test_an_engine_larger_than_the_budget_loads_alone_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b, big = Weights("a", 100), Weights("b", 100), Weights("big", 400)
    engines = manager(a, b, big, budget_mb=250)

    async def scenario() -> None:
        await use(engines, "a")
        await use(engines, "b")
        await use(engines, "big")
        assert states(engines) == {"a": "unloaded", "b": "unloaded", "big": "ready"}
        warning = engines.memory().warning
        assert warning and "engine big holds 400 MB, more than the 250 MB memory budget" in warning
        await engines.unload("big")
        assert engines.memory().warning is None  # within the budget again

    with caplog.at_level(logging.WARNING):
        run(engines, scenario)
    assert "more than the 250 MB memory budget" in caplog.text


def test_without_a_budget_nothing_is_unloaded() -> None:
    many = [Weights(name, 50_000) for name in "abcd"]
    engines = manager(*many, budget_mb=0)

    async def scenario() -> None:
        for engine in many:
            await use(engines, engine.name)
        assert set(states(engines).values()) == {"ready"}
        report = engines.memory()
        assert report.budget_bytes == 0 and report.total == 4 * 50_000 * MB and report.warning is None

    run(engines, scenario)


def test_an_engine_without_an_estimate_makes_room_once_measured() -> None:
    a, b, c = Weights("a", 100), Weights("b", 100), Weights("c", 100, estimate=False)
    engines = manager(a, b, c, budget_mb=250)

    async def scenario() -> None:
        await use(engines, "a")
        await use(engines, "b")
        await use(engines, "c")
        assert states(engines) == {"a": "unloaded", "b": "ready", "c": "ready"}

    run(engines, scenario)


def test_shared_weights_a_borrower_needs_nothing_and_keeps_what_it_borrowed() -> None:
    speaker = Speaker()
    converter = Converter(speaker)
    small, other = Weights("small", 100), Weights("other", 200)
    engines = manager(speaker, converter, small, other, budget_mb=350)

    async def scenario() -> None:
        await use(engines, "speaker")
        await use(engines, "converter")  # borrows the speaker's S3Gen: nothing unloaded
        assert engines.memory().resident == {"speaker": 300 * MB, "converter": 0, "small": 0, "other": 0}
        await use(engines, "small")  # 400 > 350: the speaker goes; its S3Gen stays, now the converter's
        assert states(engines) == {
            "speaker": "unloaded",
            "converter": "ready",
            "small": "ready",
            "other": "unloaded",
        }
        assert engines.memory().resident["converter"] == 100 * MB
        await use(engines, "other")  # 100 + 100 + 200 > 350: the converter (least recent) goes too
        assert states(engines)["converter"] == "unloaded"
        assert engines.memory().total == 300 * MB

    run(engines, scenario)


def test_at_start_engines_that_do_not_fit_or_load_on_first_use_are_left_unloaded() -> None:
    a, b, c = Weights("a", 200), Weights("b", 200), Weights("c", 10)
    engines = EngineManager(
        {e.name: e for e in (a, b, c)},
        EngineSettings(default="piper", fallback=None, load_on_first_use=["c"]),
        ModelSettings(memory_budget_mb=250, load_on_startup=True),
    )

    async def scenario() -> None:
        engines.start()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if "loading" not in states(engines).values():
                break
        assert states(engines) == {"a": "ready", "b": "unloaded", "c": "unloaded"}
        await use(engines, "b")  # on first use it loads, in place of a
        assert states(engines) == {"a": "unloaded", "b": "ready", "c": "unloaded"}

    run(engines, scenario)


def test_module_bytes_counts_shared_weights_once() -> None:
    import torch

    linear = torch.nn.Linear(10, 10)  # 110 float32 numbers
    half = torch.nn.Linear(10, 10).half()

    class Model:
        def __init__(self) -> None:
            self.first, self.again, self.wrapped = linear, linear, torch.nn.Sequential(linear)
            self.half, self.name = half, "not a module"

    assert module_bytes(linear) == 440
    assert module_bytes(Model()) == 440 + 220
    assert module_bytes(None) == 0


def test_module_bytes_counts_fused_projections_whole() -> None:
    # T3's q, k and v weights become views into one fused tensor (engines.t3_fusion): all of it counts
    import torch

    from engines.t3_fusion import FusedLinear

    parts = [torch.nn.Linear(10, 10, bias=False) for _ in range(3)]
    before = module_bytes(torch.nn.ModuleList(parts))
    FusedLinear(*parts)
    assert before == 3 * 400 and module_bytes(torch.nn.ModuleList(parts)) == before


def test_a_request_whose_engine_was_unloaded_after_it_was_chosen_loads_it_again() -> None:
    a = Weights("a", 100)
    engines = manager(a, budget_mb=250)

    async def scenario() -> None:
        await engines.ensure_loaded("a")  # the request chose a ...
        await engines.unload("a")  # ... and a went (the budget, or idle) before its first call
        assert await engines.call("a", lambda: a.loaded) is True

    run(engines, scenario)


def test_chatterbox_vc_counts_the_s3gen_it_borrows_only_once_the_tts_engine_lets_go() -> None:
    from types import SimpleNamespace

    import torch

    from engines.chatterbox import ChatterboxTTSEngine
    from engines.chatterbox_vc import ChatterboxVCEngine

    settings = ModelSettings(conditionals_cache_dir=None)
    tts = ChatterboxTTSEngine(settings)
    vc = ChatterboxVCEngine(settings, tts)
    t3, s3gen, ve = torch.nn.Linear(100, 100), torch.nn.Linear(10, 10), torch.nn.Linear(1, 1)
    tts.model = SimpleNamespace(t3=t3, s3gen=s3gen, ve=ve, conds=None, tokenizer=object())
    vc._s3gen = s3gen  # what load() does while chatterbox is loaded
    assert tts.memory_bytes() == (10_100 + 110 + 2) * 4
    assert vc.memory_bytes() == 0 and vc.estimated_bytes() == 0
    tts.model = None  # chatterbox unloaded: the S3Gen lives on in chatterbox-vc
    assert tts.memory_bytes() == 0 and vc.memory_bytes() == 110 * 4
