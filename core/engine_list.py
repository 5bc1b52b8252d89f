"""One snapshot of the configured engines, for every listing (``/api/v1/models``, ``/api/v1/engines``,
``/health``): their states, which one serves and why, and what each declares it can do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.speech import EngineFacts, SpeechService
from engines.manager import EngineManager


@dataclass(frozen=True)
class EngineEntry:
    """One engine: the manager's view of it (name, kind, state, error, what it describes) and its facts."""

    info: dict[str, Any]
    facts: EngineFacts


@dataclass(frozen=True)
class EngineListing:
    """Every configured engine, the configured default, the engine serving requests that name none,
    and why that is not the default (None when it is)."""

    default: str
    serving: str | None
    serving_reason: str | None
    engines: tuple[EngineEntry, ...]


def engine_listing(default: str, engines: EngineManager, speech: SpeechService) -> EngineListing:
    """The engines as they are now; each listing route shapes this one snapshot."""
    serving, reason = engines.serving()
    entries = tuple(EngineEntry(info, speech.facts(info["name"])) for info in engines.infos())
    return EngineListing(default, serving, reason, entries)
