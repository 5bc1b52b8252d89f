"""Consecutive chunks of one text in one call (``engines.base.VocodesTogether``), for the Chatterbox
engines with our T3 loop: T3 decodes them together in its batch and S3Gen vocodes them in one pass.

A mixin of ``ChatterboxTTSEngine`` (split from ``engines/chatterbox.py`` by responsibility, as
``engines/chatterbox_t3.py``); the engine supplies the stages it calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config import ModelSettings
from engines.base import SynthesisParams, VoiceBlend
from engines.seeding import seed_everything
from utils.audio import Clip


class GroupedSpeech:
    """``synthesize_group``; the engine supplies the attributes below."""

    name: str
    _settings: ModelSettings
    windowed_vocoding: bool

    if TYPE_CHECKING:  # the engine's stages (engines/chatterbox.py, engines/chatterbox_t3.py)

        def _counted(self) -> contextlib.AbstractContextManager[None]: ...
        def _require_model(self) -> Any: ...
        def _voice_conds(self, voice: Path | str | VoiceBlend | None) -> Any: ...
        def _text_tokens(self, model: Any, text: str, params: SynthesisParams) -> Any: ...
        def _t3_cond(self, conds: Any, params: SynthesisParams) -> Any: ...
        def _sequence(self, model: Any, t3_cond: Any, tokens: Any, params: SynthesisParams) -> Any: ...
        def _staged(self, fn: Any, *args: Any, lock: bool = True, inference: bool = False) -> Any: ...
        def _scheduler(self, model: Any) -> Any: ...
        def _budget_note(self) -> str: ...
        def _speech_run(self, speech: Any, text: str) -> Any: ...
        def _vocode(self, model: Any, speech: Any, conds: Any) -> Any: ...
        def _watermarked(self, model: Any, samples: Any, params: SynthesisParams) -> Any: ...

    @property
    def vocode_group_chars(self) -> int:
        """Characters of consecutive chunks ``synthesize_group`` takes at once; 0: none (upstream's loop)."""
        own = self._settings.t3_loop == "own" and self.windowed_vocoding
        return self._settings.vocode_group_chars if own else 0

    def synthesize_group(
        self,
        texts: Sequence[str],
        voice: Path | str | VoiceBlend | None,
        params: Sequence[SynthesisParams],
    ) -> list[tuple[Clip, list[str]]]:
        """Speak consecutive chunks of one text in one call: T3 decodes them together in its batch,
        S3Gen vocodes all their tokens in one pass (the voice's prompt read once, not once a chunk),
        and the audio is cut back into chunks where their tokens meet. Each chunk's clip comes with
        what there is to say about it (cut at its token budget). S3Gen's draws are seeded by the
        first chunk's seed, so the same seeds give the same audio.
        """
        with self._counted():
            return self._speak_group(list(texts), voice, list(params))

    def _speak_group(
        self, texts: list[str], voice: Path | str | VoiceBlend | None, params: list[SynthesisParams]
    ) -> list[tuple[Clip, list[str]]]:
        import numpy as np
        import torch
        from chatterbox.models.s3gen import S3GEN_SR

        from engines.t3_sequences import batched_tokens, submit

        model = self._require_model()

        def prepare() -> tuple[Any, list[Any]]:
            conds = self._voice_conds(voice)
            sequences = []
            for text, chosen in zip(texts, params, strict=True):
                tokens = self._text_tokens(model, text, chosen)
                sequences.append(self._sequence(model, self._t3_cond(conds, chosen), tokens, chosen))
            return conds, sequences

        conds, sequences = self._staged(prepare, inference=True)
        scheduler = self._scheduler(model)
        tickets = [submit(scheduler, sequence) for sequence in sequences]
        try:
            for ticket in tickets:
                ticket.wait()
        except BaseException:
            for ticket in tickets:  # a failed or cancelled chunk: the others leave the batch too
                ticket.cancel.set()
            raise
        speech = [batched_tokens(sequence, self.name)[0] for sequence in sequences]
        notes = [[self._budget_note()] if sequence.hit_budget else [] for sequence in sequences]

        def vocode() -> list[Any]:
            runs = [self._speech_run(row, text) for row, text in zip(speech, texts, strict=True)]
            seed_everything(params[0].seed)  # S3Gen's draws
            samples = self._vocode(model, torch.cat(runs), conds)
            # S3Gen makes the same number of samples for each token (960): the cuts fall between tokens
            ends = np.cumsum([len(run) for run in runs])
            pieces = np.split(samples, (ends[:-1] * len(samples)) // ends[-1])
            return [self._watermarked(model, piece, p) for piece, p in zip(pieces, params, strict=True)]

        pieces = self._staged(vocode, inference=True)
        return [(Clip(piece, S3GEN_SR), said) for piece, said in zip(pieces, notes, strict=True)]
