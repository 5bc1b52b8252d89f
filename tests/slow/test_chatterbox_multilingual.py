"""chatterbox-multilingual: the real upstream modules from a random-weight checkpoint, over HTTP.

Random weights make noise, not speech: these prove loading through ``from_local`` with no network
(the pkuseg trap), languages checked against the engine's list, 24 kHz audio on every door, and that
repeated calls leave no hooks and no memory behind.
"""

from __future__ import annotations

import gc
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import MULTILINGUAL_LANGUAGES
from tests.support.chatterbox_app import random_weights_settings, ready_client
from tests.support.random_multilingual import cached_random_multilingual, small_mtl_t3

pytestmark = pytest.mark.slow

ENGINE = "chatterbox-multilingual"
MAX_TOKENS = 8  # random weights never stop by themselves


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[TestClient]:
    from spacy_pkuseg.config import config as pkuseg_config

    checkpoint = cached_random_multilingual(speech_wav)
    root = tmp_path_factory.mktemp("multilingual")
    (root / "voices").mkdir()
    shutil.copy(speech_wav, root / "voices" / "narrator.wav")
    settings = random_weights_settings(
        root,
        [ENGINE],
        engines={"load_on_first_use": []},
        models={
            "max_new_tokens": MAX_TOKENS,
            "allow_download": False,  # like a machine with no network: pkuseg must not be fetched
            "multilingual": {"checkpoint_dir": str(checkpoint), "default_language": "fr"},
        },
    )
    home = pkuseg_config.pkuseg_home
    pkuseg_config.pkuseg_home = str(root / "no-pkuseg-model-here")
    try:
        with ready_client(settings, small_mtl_t3()) as test_client:
            yield test_client
    finally:
        pkuseg_config.pkuseg_home = home


def _audio(response) -> tuple[np.ndarray, int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert samples.size > 0 and np.isfinite(samples).all()
    assert np.abs(samples).max() > 1e-4  # not silence
    return samples, rate


def _details(client: TestClient) -> dict:
    engines = client.get("/api/v1/engines").json()["engines"]
    return next(e for e in engines if e["name"] == ENGINE)


def test_it_loads_offline_with_23_languages_and_says_chinese_segmentation_is_off(client: TestClient) -> None:
    entry = _details(client)
    assert entry["state"] == "loaded"
    capabilities = entry["capabilities"]
    assert capabilities["sample_rate"] == 24000 and capabilities["voice_cloning"] is True
    assert capabilities["languages"][0] == "fr"  # models.multilingual.default_language
    assert (
        sorted(capabilities["languages"]) == sorted(MULTILINGUAL_LANGUAGES)
        and len(MULTILINGUAL_LANGUAGES) == 23
    )
    assert any("Chinese word segmentation is off" in notice for notice in entry["details"]["notices"])


def test_each_language_speaks_24khz_audio_and_is_recorded(client: TestClient) -> None:
    for language, text in (
        ("de", "Guten Morgen, wie geht es dir?"),
        ("zh-CN", "你好世界。"),
        (None, "Bonjour."),
    ):
        body = {"text": text, "export_formats": ["wav"], **({"language": language} if language else {})}
        response = client.post("/api/v1/tts?response_mode=url", json=body)
        assert response.status_code == 200, response.text
        url = response.json()["output_files"][0]["url"]
        samples, rate = _audio(client.get(url))
        assert rate == 24000 and 0.05 < len(samples) / rate <= MAX_TOKENS / 25 + 0.5
        record = json.loads(client.get(url.rsplit(".", 1)[0] + ".json").content)
        assert record["engine"] == ENGINE
        assert record["language"] == {"de": "de", "zh-CN": "zh", None: "fr"}[language]


def test_a_cloned_voice_speaks_spanish_through_the_openai_route(client: TestClient) -> None:
    response = client.post(
        "/v1/audio/speech",
        json={
            "model": ENGINE,
            "input": "Hola a todos.",
            "voice": "narrator",
            "language": "es",
            "response_format": "wav",
        },
    )
    _, rate = _audio(response)
    assert rate == 24000


@pytest.mark.parametrize("route", ["/api/v1/tts", "/v1/audio/speech"])
def test_an_unknown_language_is_a_400_listing_the_codes(client: TestClient, route: str) -> None:
    outputs = Path(client.app.state.settings.paths.outputs_dir)
    before = sorted(outputs.rglob("*.wav"))
    body = {"input": "Hello.", "model": ENGINE, "voice": "narrator", "language": "xx"}
    if route == "/api/v1/tts":
        body = {"text": "Hello.", "language": "xx"}
    response = client.post(route, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "language"
    assert "'xx'" in error["message"] and all(code in error["message"] for code in ("fr", "zh", "sw", "ar"))
    assert sorted(outputs.rglob("*.wav")) == before  # refused before anything was generated or saved


def test_repeated_calls_leave_no_hooks_and_no_memory_behind(client: TestClient) -> None:
    """Upstream 0.1.7 adds three forward hooks per call and never removes them."""

    def speak() -> None:
        response = client.post("/api/v1/tts", json={"text": "Un, deux, trois.", "export_formats": ["wav"]})
        assert response.status_code == 200, response.text

    process = psutil.Process()
    for _ in range(2):  # warm-up: allocator pools, lazy imports
        speak()
    hooks = _details(client)["details"]["attention_hooks"]
    gc.collect()
    start = process.memory_info().rss
    for _ in range(
        8
    ):  # upstream leaves 3 more hooks each call; hundreds of calls: bench/multilingual_memory_bench.py
        speak()
        assert _details(client)["details"]["attention_hooks"] == hooks
    gc.collect()
    grown = (process.memory_info().rss - start) / 2**20
    assert grown < 60, f"RSS grew {grown:.0f} MB over 8 calls"
