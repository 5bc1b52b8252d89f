"""Every door copies the sampling controls and the seed into the engine's request by name."""

from __future__ import annotations

from typing import Any

from api.compat.speech import openai_speech
from api.params import speech_request
from api_models import OpenAISpeechRequest, TTSRequest
from core.requests import CONTROL_KEYS

CHOSEN: dict[str, Any] = {
    "exaggeration": 1.1,
    "cfg_weight": 0.2,
    "temperature": 0.7,
    "repetition_penalty": 1.5,
    "min_p": 0.1,
    "top_p": 0.9,
    "top_k": 50,
    "seed": 7,
}


def test_the_rest_body_takes_every_control_and_each_reaches_the_request() -> None:
    assert set(CONTROL_KEYS) == set(CHOSEN)  # a new sampling parameter: add it here and to the schema
    request = speech_request(TTSRequest(text="Hi.", **CHOSEN), None)
    assert {key: getattr(request, key) for key in CONTROL_KEYS} == CHOSEN


def test_unset_controls_stay_unset_for_the_defaults_to_fill() -> None:
    request = speech_request(TTSRequest(text="Hi."), None)
    assert {key: getattr(request, key) for key in CONTROL_KEYS} == dict.fromkeys(CONTROL_KEYS)


def test_the_openai_body_passes_on_the_controls_it_has() -> None:
    sent = {"exaggeration": 1.3, "cfg_weight": 0.4, "temperature": 0.6, "seed": 9}
    body = OpenAISpeechRequest(model="tts-1", input="Hi.", **sent)
    speech = openai_speech(body, core=None, model=None)  # no voice: nothing to look up
    assert {key: getattr(speech, key) for key in sent} == sent
