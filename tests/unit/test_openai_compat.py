"""OpenAI names mapped to ours: models, voices, and the instructions rule set."""

from __future__ import annotations

import pytest

from config import OpenAISettings
from core.openai_compat import choose_voice, delivery, engine_for
from exceptions import InvalidRequestError, NotFoundError


def test_models_map_to_engines() -> None:
    settings = OpenAISettings(models={"tts-1": "default", "tts-1-hd": "chatterbox"})
    assert engine_for("tts-1", settings) is None
    assert engine_for("tts-1-hd", settings) == "chatterbox"
    assert engine_for("piper", settings) == "piper"
    with pytest.raises(NotFoundError) as error:
        engine_for("gpt-5-tts", settings)
    assert error.value.param == "model"


def test_voices_resolve_in_order() -> None:
    settings = OpenAISettings(
        voices={"alloy": "narrator", "hero": "books/hero.wav"}, fallback_voice="default.wav"
    )
    library = {"clones": True, "in_library": True, "engine_voices": []}
    assert choose_voice("anna", settings, **library).source == "library"
    cloning = {"clones": True, "in_library": False, "engine_voices": []}
    assert choose_voice("alloy", settings, **cloning) == choose_voice("alloy", settings, **cloning)
    assert choose_voice("alloy", settings, **cloning).voice == "narrator"
    assert choose_voice("hero", settings, **cloning).voice == "books/hero.wav"
    assert choose_voice("Nova", settings, **cloning).voice == "default.wav"  # unmapped OpenAI name
    piper = {"clones": False, "in_library": False, "engine_voices": ["en_US-joe-medium"]}
    assert choose_voice("nova", settings, **piper).voice is None  # Piper's own voice
    assert choose_voice("en_US-joe-medium", settings, **piper).voice == "en_US-joe-medium"
    with pytest.raises(InvalidRequestError) as error:
        choose_voice("nobody", settings, **cloning)
    assert error.value.param == "voice"
    # order: library voice, then emotion profile, then alias table
    assert choose_voice("hero", settings, **cloning, is_profile=True).source == "emotion"
    assert choose_voice("anna", settings, **library, is_profile=True).source == "library"
    assert choose_voice("hero", settings, **piper, is_profile=True).source == "alias"  # Piper clones nothing


@pytest.mark.parametrize(
    ("instructions", "controls", "speed"),
    [
        ("Speak slowly and calmly.", {"exaggeration": 0.3, "cfg_weight": 0.5}, 0.85),
        ("Excited! And fast.", {"exaggeration": 0.9, "cfg_weight": 0.3}, 1.15),
        ("A dramatic, angry reading", {"exaggeration": 1.2, "cfg_weight": 0.3, "temperature": 0.9}, 1.0),
        ("Flat and neutral", {"exaggeration": 0.25, "temperature": 0.6}, 1.0),
        ("Just read it", {}, 1.0),
        (None, {}, 1.0),
    ],
)
def test_instructions_rules(instructions: str | None, controls: dict[str, float], speed: float) -> None:
    wanted = delivery(instructions)
    assert wanted.controls == controls and wanted.speed == speed
