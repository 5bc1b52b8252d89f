"""The app on random-weight checkpoints (few-layer T3), for the slow tests that share it: its settings,
a client once it is healthy, a TTS call that checks its wav, and a way to watch what the model stage
receives."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings, load_settings
from main_api import create_app
from tests.conftest import wait_until_ready
from tests.support.random_checkpoint import cached_random_checkpoint, small_chatterbox


def random_weights_settings(root: Path, enabled: Sequence[str], **sections: Any) -> Settings:
    """Settings serving the ``enabled`` engines (the first is the default; no fallback) on the CPU from
    folders under ``root``; ``sections`` adds to the ``engines`` and ``models`` sections (checkpoint
    folders, ``max_new_tokens``, ``conditionals_cache_dir``: none by default, ...) or sets others."""
    return load_settings(
        paths={
            name: str(root / name.removesuffix("_dir"))
            for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")
        },
        engines={
            "enabled": list(enabled),
            "default": enabled[0],
            "fallback": None,
            **sections.pop("engines", {}),
        },
        models={"device": "cpu", "conditionals_cache_dir": None, **sections.pop("models", {})},
        validation={"bypass": True},  # random weights make noise: Whisper would reject every take
        **sections,
    )


@contextmanager
def ready_client(settings: Settings, small_model: AbstractContextManager[None]) -> Iterator[TestClient]:
    """A client of the app once ``/health`` says healthy; the model is built inside ``small_model`` (the
    few-layer config its random-weight checkpoint was made with)."""
    with small_model, TestClient(create_app(settings)) as client:
        health = wait_until_ready(client, timeout=600)
        assert health["status"] == "healthy", health
        yield client


@contextmanager
def chatterbox_client(
    root: Path, speech_wav: Path, *, engines: Sequence[str] = ("chatterbox",), **models: Any
) -> Iterator[TestClient]:
    """A ready client serving ``engines`` (``chatterbox`` first; ``chatterbox-vc`` too, say) from folders
    under ``root``; ``models`` overrides settings of the ``models`` section (``max_new_tokens``,
    ``t3_loop``, ``conditionals_cache_dir``, ...)."""
    checkpoint = str(cached_random_checkpoint(speech_wav))
    settings = random_weights_settings(root, engines, models={"checkpoint_dir": checkpoint, **models})
    with ready_client(settings, small_chatterbox()) as client:
        yield client


@contextmanager
def client_with_voices(
    tmp_path_factory: pytest.TempPathFactory, speech_wav: Path, voices: int, **models: Any
) -> Iterator[TestClient]:
    """``chatterbox_client`` over a fresh folder with ``voices`` voices ``v0``, ``v1``, ... made from
    ``speech_wav`` (each from a later start and at another level), removed afterwards."""
    import shutil

    root = tmp_path_factory.mktemp("voices")
    (root / "voices").mkdir()
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    for i in range(voices):
        sf.write(str(root / "voices" / f"v{i}.wav"), samples[i * 4000 :] * (0.5 + 0.2 * i), rate)
    try:
        with chatterbox_client(root, speech_wav, **models) as client:
            yield client
    finally:
        shutil.rmtree(root, ignore_errors=True)


def speak(client: TestClient, voice: str, seed: int, text: str = "Hello there.") -> np.ndarray:
    """``POST /api/v1/tts`` (wav) with ``voice`` and ``seed``: its samples, once the answer is a 200 whose
    wav decodes at 24 kHz to finite samples."""
    body = {"text": text, "voice": voice, "seed": seed, "export_formats": ["wav"]}
    response = client.post("/api/v1/tts", json=body)
    assert response.status_code == 200, response.text
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert rate == 24_000 and samples.size > 0 and np.isfinite(samples).all()
    return samples


def record_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[dict[str, Any]]:
    """The keyword arguments of every call to ``owner.<name>`` from now on (the calls still go through).

    Random weights give T3 a near-uniform token distribution, so a changed control rarely changes the
    sampled tokens: the slow tests watch what the model stage receives instead."""
    seen: list[dict[str, Any]] = []
    real = getattr(owner, name)

    def recording(**kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(owner, name, recording)
    return seen


def record_t3_calls(monkeypatch: pytest.MonkeyPatch, engine: Any) -> list[dict[str, Any]]:
    """What T3 receives for every chunk from now on, whichever loop serves it (``models.t3_loop``).

    Upstream's loop: the keyword arguments of ``T3.inference`` / ``inference_turbo``. Ours: the
    sequence it decodes, under the same names (its conditionals as ``t3_cond``, its text, its sampling
    parameters, its budget as ``max_new_tokens`` and turbo's ``max_gen_len``)."""
    if engine._settings.t3_loop == "upstream":
        name = "inference_turbo" if engine.name == "chatterbox-turbo" else "inference"
        return record_calls(monkeypatch, engine.model.t3, name)
    import dataclasses

    from engines import t3_sequences

    seen: list[dict[str, Any]] = []
    for builder in ("chatterbox_sequence", "turbo_sequence"):
        real = getattr(t3_sequences, builder)

        def recording(t3: Any, t3_cond: Any, text: Any, sampling: Any, rng: Any, budget: int, *args: Any,
                      _real: Any = real, **kwargs: Any) -> Any:  # fmt: skip
            seen.append(
                {
                    "t3_cond": t3_cond,
                    "text_tokens": text,
                    "max_new_tokens": budget,
                    "max_gen_len": budget,
                    **dataclasses.asdict(sampling),
                }
            )
            return _real(t3, t3_cond, text, sampling, rng, budget, *args, **kwargs)

        monkeypatch.setattr(t3_sequences, builder, recording)
    return seen
