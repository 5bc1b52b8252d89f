"""A voice's conditioning for the Chatterbox engines: the reference clip read, its conditionals computed
once (T3's speaker embedding and prompt tokens, S3Gen's prompt) and cached per file, blends of voices.

A mixin of ``ChatterboxTTSEngine`` (split from ``engines/chatterbox.py`` by responsibility); the turbo
engine overrides how a reference is read and how cached conditionals load.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from engines.base import MIN_REFERENCE_SECONDS, VoiceBlend
from engines.conditionals_cache import ConditionalsCache
from exceptions import InvalidRequestError
from parameters import EXAGGERATION
from utils.audio import check_usable

BUILTIN_KEY = "builtin"


class VoiceConditioning:
    """Voice files to conditionals; the engine supplies the attributes below."""

    device: str | None
    _voices: ConditionalsCache[Any]

    def _require_model(self) -> Any:
        raise NotImplementedError

    def _reference(self, path: Path) -> Any:
        """The reference clip at 24 kHz (numpy); a clip that cannot be used is a 400 naming ``voice``."""
        import librosa
        from chatterbox.models.s3gen import S3GEN_SR

        try:
            ref_24k, _ = librosa.load(str(path), sr=S3GEN_SR)
        except Exception as exc:
            raise InvalidRequestError(
                f"voice file {path.name} could not be decoded: {exc}", param="voice"
            ) from exc
        check_usable(
            ref_24k,
            S3GEN_SR,
            name=f"voice file {path.name}",
            param="voice",
            min_seconds=MIN_REFERENCE_SECONDS,
        )
        return ref_24k

    def _conditionals(self, voice: Path | VoiceBlend | None) -> tuple[str, Any]:
        """The cache key and conditionals of a voice file (None: the checkpoint's built-in voice)."""
        if isinstance(voice, VoiceBlend):
            return self._blended(voice)
        model = self._require_model()
        if voice is None:
            if model.conds is None:
                raise InvalidRequestError(
                    "this Chatterbox checkpoint has no built-in voice (conds.pt): name a reference voice",
                    param="voice",
                )
            return BUILTIN_KEY, model.conds
        return self._voices.get(voice, self._compute_conditionals)

    def _blended(self, blend: VoiceBlend) -> tuple[str, Any]:
        """Mixed conditionals: the weighted mean of the voices' speaker embeddings (T3's and S3Gen's);
        the speech prompt (T3's prompt tokens, S3Gen's prompt tokens and mel) of the first voice."""
        each = [(self._voices.get(path, self._compute_conditionals), weight) for path, weight in blend.parts]
        first = each[0][0][1]
        speaker = sum(conds.t3.speaker_emb * weight for (_, conds), weight in each)
        embedding = sum(conds.gen["embedding"] * weight for (_, conds), weight in each)
        t3 = replace(first.t3, speaker_emb=speaker)
        key = "+".join(f"{key}*{weight:.4g}" for (key, _), weight in each)
        return key, replace(first, t3=t3, gen={**first.gen, "embedding": embedding})

    def _load_conditionals(self, path: Path) -> Any:
        from chatterbox.tts import Conditionals

        return Conditionals.load(path, map_location="cpu").to(self.device)

    def _compute_conditionals(self, path: Path) -> Any:
        """Upstream ``prepare_conditionals``, returning the result instead of storing it on the model."""
        import librosa
        import torch
        from chatterbox.models.s3gen import S3GEN_SR
        from chatterbox.models.s3tokenizer import S3_SR
        from chatterbox.models.t3.modules.cond_enc import T3Cond
        from chatterbox.tts import Conditionals

        model = self._require_model()
        ref_24k = self._reference(path)
        ref_16k = librosa.resample(ref_24k, orig_sr=S3GEN_SR, target_sr=S3_SR)
        gen = model.s3gen.embed_ref(ref_24k[: type(model).DEC_COND_LEN], S3GEN_SR, device=self.device)
        prompt_tokens = None
        if plen := model.t3.hp.speech_cond_prompt_len:
            prompt_tokens, _ = model.s3gen.tokenizer.forward(
                [ref_16k[: type(model).ENC_COND_LEN]], max_len=plen
            )
            prompt_tokens = torch.atleast_2d(prompt_tokens).to(self.device)
        speaker = torch.from_numpy(model.ve.embeds_from_wavs([ref_16k], sample_rate=S3_SR))
        speaker = speaker.mean(dim=0, keepdim=True).to(self.device)
        t3 = T3Cond(
            speaker_emb=speaker,
            cond_prompt_speech_tokens=prompt_tokens,
            emotion_adv=EXAGGERATION * torch.ones(1, 1, 1),  # upstream's default; each request sets its own
        )
        return Conditionals(t3.to(device=self.device), gen)


def save_conditionals(conds: Any, path: Path) -> None:
    conds.save(path)
