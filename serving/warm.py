"""``models.warm_voices`` on an engine replica: its conditionals cache is its own, so each replica warms."""

from __future__ import annotations

import asyncio
import logging

from config import Settings
from engines.base import PreparesVoice
from engines.manager import EngineManager
from exceptions import ChatterboxError

logger = logging.getLogger(__name__)


def resolve_voices(settings: Settings) -> dict[str, object]:
    """Each warm voice's file (or the error saying why not), read from the shared index and folder."""
    from management.catalog import Catalog
    from management.index import open_index
    from management.voices import VoiceLibrary, search_text

    paths = settings.paths
    index = open_index(settings.index.url, paths.index_path)
    try:
        library = VoiceLibrary(
            Catalog(index, "voices", paths.voices_dir, search_text=search_text, label="voice")
        )
        found: dict[str, object] = {}
        for voice in settings.models.warm_voices:
            try:
                found[voice] = library.resolve(voice, param="models.warm_voices")
            except ChatterboxError as exc:
                found[voice] = exc
        return found
    finally:
        index.close()


async def warm_voices(manager: EngineManager, settings: Settings, name: str) -> None:
    """Condition the warm voices on ``name`` (if it clones voices), as the single process does."""
    engine = manager.engine(name)
    if not isinstance(engine, PreparesVoice):
        return
    for voice, path in (await asyncio.to_thread(resolve_voices, settings)).items():
        try:
            if isinstance(path, ChatterboxError):
                raise path
            key = await manager.call(name, engine.prepare_voice, path)
        except ChatterboxError as exc:
            logger.warning("could not warm voice %r on %s: %s", voice, name, exc.message)
        else:
            logger.info("voice %r warmed on %s (%s)", voice, name, key)
