"""Chatterbox multilingual: 23 languages from one model, with 0.1.7's traps handled.

The stages are the English engine's (per-request conditioning, cached voices, capped tokens); what
differs is the weights, the tokenizer (a language tag in front of the text, per-language text
handling) and three upstream faults, see ``engines.multilingual_fixes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config import MULTILINGUAL_LANGUAGES, ModelSettings
from engines.base import EngineTraits, SynthesisParams
from engines.chatterbox import ChatterboxTTSEngine
from engines.checkpoint import BUILTIN_VOICE, Weights, hub_offline
from engines.multilingual_fixes import (
    CANGJIE_FILE,
    attention_hook_count,
    closing_analyzer,
    install_analyzer_fix,
    offline_chinese,
)

MULTILINGUAL_FILES = (
    "ve.pt",
    "t3_mtl23ls_v2.safetensors",
    "s3gen.pt",
    "grapheme_mtl_merged_expanded_v1.json",
)


class ChatterboxMultilingualEngine(ChatterboxTTSEngine):
    """``ChatterboxMultilingualTTS``: clones a voice and speaks it in any of 23 languages."""

    name = "chatterbox-multilingual"
    traits = EngineTraits(worker_group="chatterbox-multilingual")  # its own weights: its own worker

    def __init__(self, settings: ModelSettings, max_chunk_chars: int = 300) -> None:
        super().__init__(settings, max_chunk_chars)
        default = settings.multilingual.default_language
        self.languages = (default, *(code for code in MULTILINGUAL_LANGUAGES if code != default))
        self.notices: list[str] = []  # features left off at load (Chinese segmentation), with why

    def weights(self) -> Weights:
        own = self._settings.multilingual
        return Weights(
            own.checkpoint_dir,
            own.hf_repo,
            MULTILINGUAL_FILES,
            (BUILTIN_VOICE, CANGJIE_FILE),
            setting="models.multilingual.checkpoint_dir",
        )

    def _from_local(self, folder: Path, device: str) -> Any:
        from chatterbox.mtl_tts import ChatterboxMultilingualTTS

        install_analyzer_fix()
        allow_network = self._settings.allow_download and not hub_offline()
        with offline_chinese(folder, allow_network=allow_network) as notices:
            model = ChatterboxMultilingualTTS.from_local(folder, device)
        self.notices = notices
        return model

    def describe(self) -> dict[str, Any]:
        facts = super().describe()
        facts["notices"] = list(self.notices)
        if self.model is not None:
            facts["attention_hooks"] = attention_hook_count(self.model.t3)
        return facts

    def _text_tokens(self, model: Any, text: str, params: SynthesisParams) -> Any:
        from chatterbox.mtl_tts import punc_norm

        language = params.language or self.languages[0]
        return self._cfg_rows(model, model.tokenizer.text_to_tokens(punc_norm(text), language_id=language))

    def _sample_speech(self, model: Any, t3_cond: Any, tokens: Any, params: SynthesisParams) -> Any:
        if self._settings.t3_loop == "own":  # taps the analyzer's heads itself: no hooks
            return super()._sample_speech(model, t3_cond, tokens, params)
        with closing_analyzer(model.t3):  # upstream's loop: its analyzer's hooks removed afterwards
            return super()._sample_speech(model, t3_cond, tokens, params)
