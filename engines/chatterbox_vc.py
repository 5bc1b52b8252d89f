"""Chatterbox voice conversion on S3Gen, sharing the TTS engine's S3Gen when that is loaded."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Literal

from config import ModelSettings
from engines.base import MIN_REFERENCE_SECONDS, EngineTraits, SynthesisParams
from engines.chatterbox import (
    SAMPLE_RATE,
    ChatterboxTTSEngine,
    _free_accelerator_memory,
    conditionals_cache,
    tensor_bytes,
)
from engines.chatterbox_conditioning import BUILTIN_KEY
from engines.checkpoint import VC_FILES, resolve_checkpoint
from engines.compute import Runner, runner
from engines.conditionals_cache import CacheCodec, ConditionalsCache, fingerprint
from engines.device import configure_cpu, resolve_device
from engines.memory import file_bytes, module_bytes
from engines.seeding import seed_everything
from exceptions import EngineUnavailableError, InvalidRequestError
from utils.audio import Clip, check_usable, resample

logger = logging.getLogger(__name__)


class ChatterboxVCEngine:
    """Speech-to-speech: keeps the words and timing of a clip, changes the voice."""

    name = "chatterbox-vc"
    traits = EngineTraits(worker_group="chatterbox")  # shares S3Gen with the TTS engine: one worker for both
    kind: Literal["vc"] = "vc"

    def __init__(self, settings: ModelSettings, tts: ChatterboxTTSEngine | None = None) -> None:
        self._settings = settings
        self._tts = tts
        self._s3gen: Any = None
        self._builtin: dict | None = None
        self._watermarker: Any = None
        self.device: str | None = None
        self._run: Runner = runner(None)  # where its torch work runs (engines.compute): set at load
        codec = CacheCodec(tensor_bytes, _save_reference, self._load_reference)
        self._targets: ConditionalsCache[dict] = conditionals_cache(settings, codec)
        # The TTS engine's lock when S3Gen is shared: its chunks may vocode on other worker threads.
        self._lock = tts._stage_lock if tts is not None else threading.RLock()

    @property
    def loaded(self) -> bool:
        return self._s3gen is not None

    def load(self) -> None:
        """Borrow S3Gen from a loaded Chatterbox TTS (no second copy in memory), else load it alone."""
        if self._tts is not None and self._tts.loaded:
            model = self._tts.model
            self._s3gen, self._watermarker, self.device = model.s3gen, model.watermarker, self._tts.device
            self._run = runner(self.device)
            self._builtin = model.conds.gen if model.conds is not None else None
            logger.info("chatterbox-vc shares the S3Gen of the loaded chatterbox engine")
            self._targets.open(f"{self.name}-{self._tts.fingerprint}")
            return
        folder = resolve_checkpoint(self._settings, VC_FILES)  # before the slow import: fail fast
        device = resolve_device(self._settings.device)
        configure_cpu(self._settings)
        from chatterbox.vc import ChatterboxVC

        from engines.s3gen_setup import prepare_s3gen

        logger.info("loading chatterbox-vc from %s on %s", folder, device)
        self._run = runner(device)

        def open_model() -> Any:
            vc = ChatterboxVC.from_local(folder, device)
            prepare_s3gen(vc.s3gen, self._settings, self.name)
            return vc

        vc = self._run(open_model)
        self._s3gen, self._watermarker, self._builtin, self.device = (
            vc.s3gen,
            vc.watermarker,
            vc.ref_dict,
            device,
        )
        self._targets.open(f"{self.name}-{fingerprint(folder, files=(folder / VC_FILES[0],))}")

    def unload(self) -> None:
        """Drop S3Gen (freed once the TTS engine lets go too) and cached voices."""
        self._s3gen = self._builtin = self._watermarker = None
        self._targets.clear()
        _free_accelerator_memory()

    def describe(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "sample_rate": SAMPLE_RATE,
            "builtin_voice": self._builtin is not None,
            "voice_cache": self._targets.stats.as_dict(),
        }

    def prepare_voice(self, voice: Path) -> str:
        """Embed a target voice now (warming the cache); returns its cache key."""
        return self._run(lambda: self._target(voice)[0])

    def convert(self, source: Clip, target_voice: Path | None, params: SynthesisParams) -> Clip:
        """Tokenise the source at 16 kHz, then let S3Gen speak those tokens in the target voice."""
        import torch
        from chatterbox.models.s3tokenizer import S3_SR

        if self._s3gen is None:
            raise EngineUnavailableError("chatterbox-vc is not loaded")
        audio_16k = resample(source, S3_SR).samples

        def convert() -> Any:
            with self._lock:
                _, ref = self._target(target_voice)
                seed_everything(params.seed)
                with torch.inference_mode():
                    tokens, _ = self._s3gen.tokenizer(
                        torch.from_numpy(audio_16k).float().to(self.device)[None,]
                    )
                    wav, _ = self._s3gen.inference(speech_tokens=tokens, ref_dict=dict(ref))
                    samples = wav.squeeze(0).detach().cpu().numpy()
            if (
                params.watermark
            ):  # outside the lock; in inference mode, else its autograd graph outlives the call
                with torch.inference_mode():
                    samples = self._watermarker.apply_watermark(samples, sample_rate=SAMPLE_RATE)
            return samples

        return Clip(self._run(convert), SAMPLE_RATE)

    def _target(self, voice: Path | None) -> tuple[str, dict]:
        if voice is None:
            if self._builtin is None:
                raise InvalidRequestError(
                    "no built-in voice (conds.pt): name a target voice", param="target_voice_source"
                )
            return BUILTIN_KEY, self._builtin
        return self._targets.get(voice, self._embed)

    def _load_reference(self, path: Path) -> dict:
        import torch

        ref = torch.load(path, map_location="cpu", weights_only=True)
        return {k: v.to(self.device) if torch.is_tensor(v) else v for k, v in ref.items()}

    def _embed(self, path: Path) -> dict:
        from chatterbox.models.s3gen import S3GEN_SR
        from chatterbox.vc import ChatterboxVC

        ref = _load(path, S3GEN_SR, "target_voice_source")[: ChatterboxVC.DEC_COND_LEN]
        return self._s3gen.embed_ref(ref, S3GEN_SR, device=self.device)

    def memory_bytes(self) -> int:
        """Bytes of S3Gen held now: 0 while it is the loaded TTS engine's (counted there), or unloaded."""
        if self._s3gen is None or self._borrowing():
            return 0
        return module_bytes(self._s3gen)

    def estimated_bytes(self) -> int | None:
        """Before a load: 0 when it will borrow the loaded TTS engine's S3Gen, else the file's size."""
        if self._tts is not None and self._tts.loaded:
            return 0
        folder = self._settings.checkpoint_dir
        return file_bytes(Path(folder) / name for name in VC_FILES) if folder else None

    def _borrowing(self) -> bool:
        # Still the TTS engine's own S3Gen: once that engine unloads, this copy is ours alone.
        tts = self._tts
        return tts is not None and tts.model is not None and tts.model.s3gen is self._s3gen


def _save_reference(ref: dict, path: Path) -> None:
    import torch

    torch.save(ref, path)


def _load(path: Path, rate: int, param: str) -> Any:
    import librosa

    try:
        audio, _ = librosa.load(str(path), sr=rate)
    except Exception as exc:
        raise InvalidRequestError(f"{path.name} could not be decoded as audio: {exc}", param=param) from exc
    check_usable(audio, rate, name=path.name, param=param, min_seconds=MIN_REFERENCE_SECONDS)
    return audio
