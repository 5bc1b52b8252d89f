"""Building the configured engines."""

from __future__ import annotations

from config import Settings
from engines.base import SpeechEngine


def build_engines(settings: Settings) -> dict[str, SpeechEngine]:
    """One instance of each engine enabled in ``engines.enabled``, by name."""
    from engines.chatterbox import ChatterboxTTSEngine
    from engines.chatterbox_vc import ChatterboxVCEngine
    from engines.piper import PiperEngine
    from engines.remote import RemoteEngine

    enabled = settings.engines.enabled
    engines: dict[str, SpeechEngine] = {}
    tts = None
    if "chatterbox" in enabled:
        tts = ChatterboxTTSEngine(settings.models, settings.limits.max_chunk_chars)
        engines[tts.name] = tts
    if "chatterbox-multilingual" in enabled:
        from engines.chatterbox_multilingual import ChatterboxMultilingualEngine

        engines["chatterbox-multilingual"] = ChatterboxMultilingualEngine(
            settings.models, settings.limits.max_chunk_chars
        )
    if "chatterbox-turbo" in enabled:
        from engines.chatterbox_turbo import ChatterboxTurboEngine

        engines["chatterbox-turbo"] = ChatterboxTurboEngine(settings.models, settings.limits.max_chunk_chars)
    if "piper" in enabled:
        engines["piper"] = PiperEngine(settings.piper, settings.limits.max_chunk_chars)
    if "chatterbox-vc" in enabled:
        engines["chatterbox-vc"] = ChatterboxVCEngine(settings.models, tts)
    for remote_name, remote in settings.remotes.items():
        if remote.enabled:
            engine = RemoteEngine(remote_name, remote)
            engines[engine.name] = engine
    return engines
