"""What ``GET /v1/audio/voices`` lists: every name ``voice`` accepts on the engine that serves."""

from __future__ import annotations

from typing import Any

from config import OPENAI_VOICES
from core_engine import CoreEngine
from management.index import Filters


def _library(core: CoreEngine) -> list[dict[str, Any]]:
    catalog = core.voices.catalog
    if not catalog.root.is_dir():
        return []
    entries = sorted(catalog.select(Filters()), key=lambda entry: entry.path)
    return [
        {
            "id": entry.path,
            "name": str(entry.metadata.get("name") or entry.name.rsplit(".", 1)[0]),
            "source": "library",
            "speaks_with": None,
        }
        for entry in entries
        if not entry.path.startswith(".")
    ]


def _engine_voices(core: CoreEngine, name: str) -> list[dict[str, Any]]:
    return [
        {"id": voice, "name": voice, "source": "engine", "speaks_with": None}
        for voice in core.speech.facts(name).voices
    ]


def voice_entries(core: CoreEngine) -> list[dict[str, Any]]:
    """OpenAI's names (and what each speaks with), aliases, then what the engines can speak.

    Library voices and emotion profiles are listed while an engine that clones (Chatterbox) can run;
    when the engine serving requests does not clone (Piper, also as the fallback of a failed
    Chatterbox), its own voices are listed.
    """
    settings = core.settings.openai
    serving, _ = core.serving()
    usable = [
        info["name"] for info in core.engines_info() if info["kind"] == "tts" and info["state"] != "failed"
    ]
    clones = any(core.speech.facts(name).clones_voices for name in usable)
    serving_clones = serving is not None and core.speech.facts(serving).clones_voices
    entries = [
        {
            "id": name,
            "name": name,
            "source": "openai",
            "speaks_with": (settings.voices.get(name) or settings.fallback_voice)
            if serving_clones
            else serving,
        }
        for name in OPENAI_VOICES
    ]
    entries += [
        {"id": alias, "name": alias, "source": "alias", "speaks_with": target if serving_clones else serving}
        for alias, target in settings.voices.items()
        if alias not in OPENAI_VOICES
    ]
    if serving is not None and not serving_clones:
        entries += _engine_voices(core, serving)
    if clones:
        entries += _library(core)
        entries += [
            {
                "id": f"emotion:{p.id}",
                "name": f"{p.character} ({p.emotion})",
                "source": "emotion",
                "speaks_with": p.samples[0],
            }
            for p in core.emotions.list()
        ]
    return entries
