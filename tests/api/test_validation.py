"""Whisper validation through /api/v1/tts: several takes, the one that says the text is kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.base import SynthesisParams
from engines.piper import PiperEngine
from main_api import create_app
from tests.conftest import similarity
from utils.audio import Clip

TEXT = "The quick brown fox jumps over the lazy dog."
WRONG = {1: "Bananas are yellow and grow in big bunches on tall plants in warm places.", 2: "Hello."}


class FlakyPiper(PiperEngine):
    """Real Piper speech whose takes differ: only seeds divisible by 3 say the text."""

    varies_with_seed = True

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        residue = params.seed % 3
        return super().synthesize(text if residue == 0 else WRONG[residue], voice, params)


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        validation={"allow_download": False},
    )
    engine = CoreEngine(settings, engines={"piper": FlakyPiper(settings.piper)})
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client


def speak(client: TestClient, **body: object) -> dict:
    response = client.post(
        "/api/v1/tts?response_mode=url", json={"text": TEXT, "export_formats": ["wav"], **body}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_take_that_says_the_text_is_kept_among_several(
    client: TestClient, transcribe: Callable[[Path], str]
) -> None:
    # Seed 1: takes 0 and 1 say the wrong words (seeds 1, 1000004 mod 3 = 1, 2); take 2 is right.
    data = speak(client, seed=1, num_candidates_per_chunk=3, max_attempts_per_candidate=1)
    chunk = data["chunks"][0]
    assert chunk["takes"] == 3 and chunk["passed"] is True and chunk["score"] >= 0.85
    outputs = Path(client.app.state.settings.paths.outputs_dir)
    heard = transcribe(outputs / data["output_files"][0]["filename"])
    assert similarity(heard, TEXT) > 0.85, heard


def test_a_chunk_that_fails_is_retried(client: TestClient) -> None:
    chunk = speak(client, seed=1, num_candidates_per_chunk=1, max_attempts_per_candidate=3)["chunks"][0]
    assert chunk["takes"] == 3 and chunk["passed"] is True


def test_when_no_take_matches_the_longest_transcript_is_kept_and_reported(client: TestClient) -> None:
    chunk = speak(client, seed=1, num_candidates_per_chunk=2, max_attempts_per_candidate=1)["chunks"][0]
    assert chunk["takes"] == 2 and chunk["passed"] is False
    assert similarity(chunk["transcript"], WRONG[1]) > 0.7  # the longer of the two wrong takes


def test_an_unavailable_whisper_model_warns_and_uses_the_shipped_one(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tts",
        json={"text": TEXT, "seed": 3, "whisper_model_name": "medium", "export_formats": ["wav"]},
    )
    assert response.status_code == 200
    assert "'medium' is unavailable" in response.headers["x-warnings"]
    data = speak(client, seed=3, whisper_model_name="medium")
    assert data["chunks"][0]["passed"] is True and "tiny.en" in data["warnings"][0]


def test_checking_can_be_bypassed(client: TestClient) -> None:
    chunk = speak(client, seed=1, bypass_whisper_checking=True, num_candidates_per_chunk=3)["chunks"][0]
    assert chunk["takes"] == 1 and chunk["score"] is None and chunk["passed"] is None


def test_engines_whose_takes_never_differ_are_not_checked(piper_client: TestClient) -> None:
    response = piper_client.post(
        "/api/v1/tts?response_mode=url", json={"text": TEXT, "num_candidates_per_chunk": 3}
    )
    assert response.json()["chunks"][0] == {
        "index": 0,
        "text": TEXT.lower(),
        "takes": 1,
        "score": None,
        "transcript": None,
        "passed": None,
    }
