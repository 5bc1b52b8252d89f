"""chatterbox-turbo (and nano) from upstream's real modules on random weights, driven over HTTP.

Random weights make noise, not speech: these tests prove the turbo path (upstream loader, GPT-2
tokenizer, inference_turbo, meanflow vocoder, the reference rules), not voice quality.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from tests.support.chatterbox_app import random_weights_settings, ready_client, record_t3_calls
from tests.support.random_turbo import (
    build_nano_checkpoint,
    cached_turbo_checkpoint,
    long_clip,
    small_nano_t3,
    small_turbo_t3,
)

pytestmark = pytest.mark.slow

MAX_TOKENS = 25  # random weights never emit the stop token; 25 tokens = 1 s of audio
TEXT = {"text": "Hello there.", "engine": "chatterbox-turbo", "export_formats": ["wav"]}


def _settings(root: Path, checkpoint: Path) -> Settings:
    (root / "voices").mkdir(exist_ok=True)
    return random_weights_settings(
        root,
        ["chatterbox-turbo"],
        models={
            "max_new_tokens": MAX_TOKENS,
            "conditionals_cache_dir": str(root / "cache"),
            "turbo": {"checkpoint_dir": str(checkpoint)},
        },
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[TestClient]:
    checkpoint = cached_turbo_checkpoint(speech_wav)
    root = tmp_path_factory.mktemp("turbo")
    settings = _settings(root, checkpoint)
    # voices: a 9 s clip (reversed, so it differs from the built-in voice) and a 4 s one
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    reversed_wav = root / "reversed.wav"
    sf.write(str(reversed_wav), samples[::-1], rate)
    long_clip(reversed_wav, root / "voices" / "narrator.wav")
    sf.write(str(root / "voices" / "short.wav"), samples[: 4 * rate], rate)
    with ready_client(settings, small_turbo_t3()) as test_client:
        yield test_client


def _audio(response) -> np.ndarray:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert rate == 24000
    assert samples.size > 0 and np.isfinite(samples).all()
    assert np.abs(samples).max() > 1e-4  # not silence
    assert 0.3 < len(samples) / rate <= (MAX_TOKENS + 1 + 3) / 25 + 0.2  # + upstream's silence tokens
    return samples


def test_a_nano_checkpoint_loads_and_speaks(tmp_path: Path, speech_wav: Path) -> None:
    # First in the module, before ``client`` loads turbo: the two models are never held at once.
    nano = build_nano_checkpoint(tmp_path / "nano", cached_turbo_checkpoint(speech_wav))
    settings = _settings(tmp_path, nano)
    with ready_client(settings, small_nano_t3()) as nano_client:
        (info,) = nano_client.get("/api/v1/engines").json()["engines"]
        assert info["state"] == "unloaded"  # engines.load_on_first_use: turbo waits for a request
        _audio(nano_client.post("/api/v1/tts", json=TEXT))
        (info,) = nano_client.get("/api/v1/engines").json()["engines"]
        assert info["details"]["variant"] == "nano" and info["state"] == "loaded"
    shutil.rmtree(tmp_path / "nano")


def test_builtin_and_cloned_voices_give_24khz_audio(client: TestClient) -> None:
    builtin = client.post("/api/v1/tts", json={**TEXT, "seed": 3})
    assert builtin.headers["x-engine"] == "chatterbox-turbo"
    cloned = _audio(client.post("/api/v1/tts", json={**TEXT, "seed": 3, "voice": "narrator"}))
    first = _audio(builtin)
    assert not np.array_equal(first[: len(cloned)], cloned[: len(first)])  # the voice mattered


def test_a_reference_of_five_seconds_or_less_is_a_400_and_nothing_is_saved(
    client: TestClient, speech_wav: Path
) -> None:
    outputs = Path(client.app.state.settings.paths.outputs_dir)
    before = sorted(outputs.rglob("*")) if outputs.exists() else []
    response = client.post("/api/v1/tts", json={**TEXT, "voice": "short"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "voice"
    assert "4.0 s" in error["message"] and "longer than 5 s" in error["message"]

    short = io.BytesIO()
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    sf.write(short, samples[: 4 * rate], rate, format="WAV")
    uploaded = client.post(
        "/api/v1/tts",
        data={"text": "Hello there.", "engine": "chatterbox-turbo"},
        files={"reference_audio": ("mine.wav", short.getvalue(), "audio/wav")},
    )
    assert uploaded.status_code == 400, uploaded.text
    assert uploaded.json()["error"]["param"] == "reference_audio"
    assert "longer than 5 s" in uploaded.json()["error"]["message"]
    assert (sorted(outputs.rglob("*")) if outputs.exists() else []) == before


def test_turbo_defaults_and_top_k_reach_the_model_and_ignored_controls_warn(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = client.app.state.engine.engines.engine("chatterbox-turbo")
    seen = record_t3_calls(monkeypatch, engine)  # random weights: watch what T3 receives
    plain = client.post("/api/v1/tts?response_mode=url", json=TEXT)
    assert plain.status_code == 200, plain.text
    budget = f"chunk 1: speech reached the token budget (models.max_new_tokens={MAX_TOKENS}) before its end"
    assert [w.split(":")[0] for w in plain.json()["warnings"]] == ["chunk 1"]  # random weights never stop
    assert plain.json()["warnings"][0].startswith(budget)
    chosen = {"top_k": 50, "top_p": 0.8, "temperature": 0.6, "repetition_penalty": 1.5, "cfg_weight": 0.3}
    tuned = client.post("/api/v1/tts?response_mode=url", json={**TEXT, **chosen})
    assert tuned.status_code == 200, tuned.text
    assert tuned.json()["warnings"][0] == "chatterbox-turbo ignores cfg_weight"
    assert tuned.json()["warnings"][1].startswith(budget)
    defaults, mine = seen
    expected = {"temperature": 0.8, "top_k": 1000, "top_p": 0.95, "repetition_penalty": 1.2}
    assert {key: defaults[key] for key in expected} == pytest.approx(expected)
    assert {key: mine[key] for key in expected} == pytest.approx({k: chosen[k] for k in expected})
    assert defaults["max_gen_len"] == mine["max_gen_len"] == MAX_TOKENS
    assert defaults["text_tokens"].shape[0] == 1  # one row: no CFG


def test_the_engine_list_shows_turbo_loaded_at_24khz(client: TestClient) -> None:
    engines = client.get("/api/v1/engines").json()["engines"]
    (turbo,) = [e for e in engines if e["name"] == "chatterbox-turbo"]
    assert turbo["state"] == "loaded"
    assert turbo["capabilities"]["sample_rate"] == 24000
    assert turbo["capabilities"]["voice_cloning"] is True
    assert turbo["details"]["variant"] == "turbo"
