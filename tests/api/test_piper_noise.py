"""Piper's random draws, set in config (piper.noise_scale, piper.noise_w_scale), through /api/v1/tts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from tests.conftest import PIPER_ONLY, wait_until_ready
from utils.audio import decode

TEXT = "The harbour was quiet that morning. Then the bell rang twice."


def speak_three_times(settings: Settings) -> list[np.ndarray]:
    with TestClient(create_app(settings)) as client:
        wait_until_ready(client)
        answers = [
            client.post(
                "/api/v1/tts", json={"text": TEXT, "export_formats": ["wav"], "response_mode": "file"}
            )
            for _ in range(3)
        ]
    assert all(answer.status_code == 200 for answer in answers), answers[0].text
    return [decode(answer.content).samples for answer in answers]


def test_noise_w_scale_zero_gives_the_same_length_every_time(make_settings: Callable[..., Settings]) -> None:
    lengths = {
        len(s) for s in speak_three_times(make_settings(engines=PIPER_ONLY, piper={"noise_w_scale": 0}))
    }
    assert len(lengths) == 1


def test_both_at_zero_give_the_same_audio_every_time(make_settings: Callable[..., Settings]) -> None:
    first, *others = speak_three_times(
        make_settings(engines=PIPER_ONLY, piper={"noise_w_scale": 0, "noise_scale": 0})
    )
    assert all(np.array_equal(first, other) for other in others)
