"""devnen/Chatterbox-TTS-Server's web-UI answers from our state: ``/api/ui/initial-data``, model info.

Its page reads ``config`` (its config.yaml sections), the voice lists, ``presets`` and ``model_info``;
the values here are ours: the serving engine, our generation defaults, our folders.
"""

from __future__ import annotations

from typing import Any

from api.compat.devnen import predefined_voices
from core.languages import LANGUAGE_NAMES
from core_engine import CoreEngine

# our engine -> devnen's model type
_TYPES = {"chatterbox": "original", "chatterbox-turbo": "turbo", "chatterbox-multilingual": "multilingual"}
_UI_STATE = {  # devnen's defaults: this server keeps no UI state (its /save_settings is refused)
    "last_text": "",
    "last_voice_mode": "predefined",
    "last_predefined_voice": None,
    "last_reference_file": None,
    "last_seed": 0,
    "last_chunk_size": 120,
    "last_split_text_enabled": True,
    "hide_chunk_warning": False,
    "hide_generation_warning": False,
    "theme": "dark",
}


def serving_info(core: CoreEngine) -> dict[str, Any]:
    """The serving engine's state as ``engines_info`` gives it (empty when none can serve)."""
    serving, _ = core.serving()
    return next((info for info in core.engines_info() if info["name"] == serving), {})


def model_info(core: CoreEngine) -> dict[str, Any]:
    """devnen's ``model_info``: the engine serving requests, in its keys."""
    info = serving_info(core)
    name = str(info.get("name") or "")
    configured = {engine["name"] for engine in core.engines_info()}
    codes = core.speech.languages(name) if name else ("en",)
    return {
        "loaded": info.get("state") == "ready",
        "type": _TYPES.get(name, name or None),
        "class_name": name or None,
        "device": info.get("device"),
        "sample_rate": info.get("sample_rate"),
        "supports_paralinguistic_tags": False,
        "available_paralinguistic_tags": [],
        "turbo_available_in_package": "chatterbox-turbo" in configured,
        "multilingual_available_in_package": "chatterbox-multilingual" in configured,
        "supports_multilingual": len(codes) > 1,
        "supported_languages": {
            code: LANGUAGE_NAMES.get(code.split("-")[0], code) for code in codes or ("en",)
        },
    }


def initial_data(core: CoreEngine) -> dict[str, Any]:
    """devnen's ``/api/ui/initial-data``: its config sections filled from ours, the voices, the model."""
    settings, voices = core.settings, core.voices
    generation, model = settings.generation, model_info(core)
    voices_dir = str(settings.paths.voices_dir)
    default_voice = core.voice_sources.default_voice() or settings.openai.fallback_voice
    config = {
        "server": {"host": settings.server.host, "port": settings.server.port},
        "model": {"repo_id": model["class_name"]},
        "tts_engine": {
            "device": model["device"] or "auto",
            "predefined_voices_path": voices_dir,  # one folder here for both
            "reference_audio_path": voices_dir,
            "default_voice_id": default_voice,
        },
        "paths": {"output": str(settings.paths.outputs_dir)},
        "generation_defaults": {
            "temperature": generation.temperature,
            "exaggeration": generation.exaggeration,
            "cfg_weight": generation.cfg_weight,
            "seed": 0,
            "speed_factor": 1.0,
            "language": next(iter(model["supported_languages"])),
        },
        "audio_output": {"format": "wav", "sample_rate": model["sample_rate"], "save_to_disk": False},
        "ui_state": dict(_UI_STATE),
        "ui": {
            "title": "Chatterbox TTS Extended Plus",
            "show_language_select": model["supports_multilingual"],
            "max_predefined_voices_in_dropdown": 20,
        },
        "debug": {"save_intermediate_audio": False},
    }
    return {
        "config": config,
        "reference_files": voices.names() if voices.root.is_dir() else [],
        "predefined_voices": predefined_voices(voices),
        "presets": [],
        "initial_gen_result": {
            "outputUrl": None,
            "filename": None,
            "genTime": None,
            "submittedVoiceMode": None,
            "submittedPredefinedVoice": None,
            "submittedCloneFile": None,
        },
        "model_info": model,
    }
