"""Auto-editor and EBU loudness through POST /api/v1/tts, on an engine with a known inner silence."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import GapEngine
from utils.audio import decode, loudness


@pytest.fixture
def gap_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    with TestClient(
        create_app(settings, engine=CoreEngine(settings, engines={"gap": GapEngine()}))
    ) as client:
        yield client


def speak(client: TestClient, **body: object):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/tts?response_mode=url",
        json={"text": "Hi.", "engine": "gap", "export_formats": ["wav"], **body},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _outputs(client: TestClient) -> Path:
    return Path(client.app.state.settings.paths.outputs_dir)


def _duration(client: TestClient, data: dict) -> float:
    return decode(client.get(data["output_files"][0]["url"]).content).duration


def test_auto_editor_cuts_the_inner_silence_to_twice_the_margin(gap_client: TestClient) -> None:
    assert _duration(gap_client, speak(gap_client)) == pytest.approx(4.0, abs=0.002)  # 1 s + 2 s gap + 1 s
    edited = speak(gap_client, use_auto_editor=True)
    assert edited["duration_seconds"] == pytest.approx(2.4, abs=0.002)  # the gap is now 2 x 0.2 s
    assert _duration(gap_client, edited) == pytest.approx(2.4, abs=0.002)
    assert _duration(gap_client, speak(gap_client, use_auto_editor=True, ae_margin=0.5)) == pytest.approx(
        3.0, abs=0.002
    )
    # a threshold above the tone's peak (0.1) finds no sound, so nothing is cut
    assert _duration(gap_client, speak(gap_client, use_auto_editor=True, ae_threshold=0.2)) == pytest.approx(
        4.0, abs=0.002
    )


def test_the_original_is_kept_beside_the_edit_when_asked(gap_client: TestClient) -> None:
    data = speak(gap_client, use_auto_editor=True, keep_original_wav_ae=True, export_formats=["wav", "mp3"])
    assert [f["format"] for f in data["output_files"]] == ["wav", "mp3"]
    edited = _outputs(gap_client) / data["output_files"][0]["filename"]
    original = edited.with_name(edited.stem + "_original.wav")
    assert decode(original).duration == pytest.approx(4.0, abs=0.002)
    assert decode(edited).duration == pytest.approx(2.4, abs=0.002)
    record = json.loads(edited.with_suffix(".json").read_text())
    assert record["original_file"] == original.name
    assert record["parameters"]["post_processing"]["auto_editor"] is True
    plain = speak(gap_client, keep_original_wav_ae=True)  # without auto-editor there is no original
    assert not list(_outputs(gap_client).glob(Path(plain["output_files"][0]["filename"]).stem + "_original*"))


def test_ebu_reaches_the_target_and_records_the_range(gap_client: TestClient) -> None:
    data = speak(gap_client, normalize_audio=True, normalize_level=-16, normalize_tp=-1, normalize_lra=5)
    out = decode(gap_client.get(data["output_files"][0]["url"]).content)
    assert loudness(out) == pytest.approx(-16, abs=1.0)
    assert out.sample_rate == 24000 and out.duration == pytest.approx(4.0, abs=0.002)
    record = json.loads(gap_client.get(data["output_files"][0]["url"].removesuffix(".wav") + ".json").content)
    assert record["parameters"]["post_processing"]["normalize_lra"] == 5


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"use_auto_editor": True, "ae_threshold": 1.5}, "ae_threshold"),
        ({"use_auto_editor": True, "ae_margin": -0.1}, "ae_margin"),
        ({"use_auto_editor": True, "ae_margin": 2}, "ae_margin"),
        ({"normalize_audio": True, "normalize_level": -3}, "normalize_level"),  # loudnorm stops at -5 LUFS
        ({"normalize_lra": 60}, "normalize_lra"),
    ],
)
def test_bad_post_processing_values_are_400_naming_the_field(
    gap_client: TestClient, body: dict, param: str
) -> None:
    response = gap_client.post("/api/v1/tts", json={"text": "Hi.", "engine": "gap", **body})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_peak_normalisation_still_takes_levels_up_to_zero(gap_client: TestClient) -> None:
    data = speak(gap_client, normalize_audio=True, normalize_method="peak", normalize_level=-3)
    out = decode(gap_client.get(data["output_files"][0]["url"]).content)
    assert float(abs(out.samples).max()) == pytest.approx(10 ** (-3 / 20), abs=0.01)
