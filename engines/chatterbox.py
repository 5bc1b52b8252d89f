"""Chatterbox English TTS, driven stage by stage so that no request touches shared model state.

Upstream ``ChatterboxTTS.generate`` stores the voice in ``model.conds`` and T3 writes into that
``T3Cond`` in place; two requests with different voices would mix. Here each voice's conditioning
is computed once (cached per file), every request gets its own ``T3Cond``, and the stages are
called directly with an explicit ``max_new_tokens``.

The multilingual and turbo engines subclass this one and replace single stages: which weights,
how text becomes tokens, how T3 samples, how a reference clip is read, how tokens become audio.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from config import ModelSettings
from engines.base import EngineTraits, PartialAudio, SynthesisParams, VoiceBlend
from engines.chatterbox_conditioning import VoiceConditioning, save_conditionals
from engines.chatterbox_groups import GroupedSpeech
from engines.chatterbox_t3 import T3Sampling
from engines.checkpoint import Weights, english_weights, resolve_weights
from engines.compute import Runner, runner
from engines.conditionals_cache import (
    CacheCodec,
    ConditionalsCache,
    conditionals_cache,
    fingerprint,
    tensor_bytes,
)
from engines.device import configure_cpu, resolve_device
from engines.s3gen_stream import TokenFeed, WindowedAudio, vocode_while_decoding, wait_for_listener
from engines.seeding import seed_everything
from engines.worker import Cancelled, cancel_event, note
from exceptions import EngineUnavailableError, GenerationError
from utils.audio import Clip

os.environ.setdefault("TQDM_DISABLE", "1")  # upstream draws a progress bar per chunk into the logs

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24_000
_SPEECH_VOCAB = 6561  # token ids at or above this are control tokens, not speech
MAX_CHUNKS_AHEAD = 4  # a text spoken chunk by chunk has at most this many calls on the model's threads


class ChatterboxTTSEngine(VoiceConditioning, T3Sampling, GroupedSpeech):
    """The real ``chatterbox-tts`` English model."""

    name = "chatterbox"
    traits = EngineTraits(worker_group="chatterbox")  # one worker thread for the weights TTS and VC share
    kind: Literal["tts"] = "tts"
    clones_voices = True
    blends_voices = True  # a VoiceBlend mixes the voices' speaker embeddings (``_blended``)
    varies_with_seed = True
    languages: tuple[str, ...] = ("en",)

    def __init__(self, settings: ModelSettings, max_chunk_chars: int = 300) -> None:
        self._settings = settings
        # With our loop, as many chunks run at once as the T3 batch holds (they meet there), and a long
        # text gives a few of its chunks at once (its groups, up to the batch: core/chunk_groups.py);
        # with upstream's, one at a time.
        batch = settings.t3_batch_size if settings.t3_loop == "own" else 1
        self.traits = replace(type(self).traits, concurrency=batch, chunks_ahead=min(batch, MAX_CHUNKS_AHEAD))
        self.max_chunk_chars: int | None = max_chunk_chars
        self.model: Any = None
        self.device: str | None = None
        self.fingerprint = ""  # of the loaded weights; names cached conditionals
        codec = CacheCodec(tensor_bytes, save_conditionals, self._load_conditionals)
        self._voices: ConditionalsCache[Any] = conditionals_cache(settings, codec)
        self._t3_scheduler: Any = None
        self._t3_dtype: Any = None  # T3's weights when not float32 (models.dtype); None: as loaded
        self._run: Runner = runner(None)  # where its torch work runs (engines.compute): set at load
        # With our loop, several chunks run on the worker at once (see ``concurrency``): they meet in
        # the T3 batch and take turns, under this lock, for everything else (conditioning, S3Gen).
        self._stage_lock = threading.RLock()
        self._scheduler_lock = threading.Lock()
        self._calls = threading.Condition()  # counts chunks on the model: unload waits for them
        self._running = 0

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def load(self) -> None:
        """Load from the configured checkpoint folder or Hugging Face onto the configured device."""
        weights = self.weights()
        folder = resolve_weights(self._settings, weights)  # before the slow import: fail fast
        device = resolve_device(self._settings.device)
        configure_cpu(self._settings)
        logger.info("loading %s from %s on %s", self.name, folder, device)
        self._run = runner(device)
        self.model, self._t3_dtype = self._run(self._open, folder, device)
        self.device = device
        self.fingerprint = fingerprint(folder, files=_files(folder, weights.required))
        self._voices.open(f"{self.name}-{self.fingerprint}")

    def _open(self, folder: Path, device: str) -> tuple[Any, Any]:
        """The model from ``folder`` on ``device``, prepared for our loop; and T3's dtype (``prepare_t3``)."""
        from engines.s3gen_setup import prepare_s3gen
        from engines.t3_sequences import prepare_t3

        model = self._from_local(folder, device)
        dtype = prepare_t3(model.t3, self._settings, self.name)
        prepare_s3gen(model.s3gen, self._settings, self.name)
        return model, dtype

    def weights(self) -> Weights:
        """The files this engine reads, and where from."""
        return english_weights(self._settings)

    def _from_local(self, folder: Path, device: str) -> Any:
        from chatterbox.tts import ChatterboxTTS

        return ChatterboxTTS.from_local(folder, device)

    def unload(self) -> None:
        """Drop the model and the cached voices, once the chunks already on the model are done."""
        with self._calls:
            self._calls.wait_for(lambda: self._running == 0)
            self.model = None
            if self._t3_scheduler is not None:
                self._t3_scheduler.close()
                self._t3_scheduler = None
            self._voices.clear()
        _free_accelerator_memory()

    def describe(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "sample_rate": SAMPLE_RATE,
            "builtin_voice": bool(self.model is not None and self.model.conds is not None),
            "watermark": self._settings.watermark,
            "languages": list(self.languages),
            "voice_cache": self._voices.stats.as_dict(),
            "t3_loop": self._settings.t3_loop,
        }

    def languages_for(self, voice: str | None) -> tuple[str, ...]:
        return self.languages  # a cloned voice speaks the model's language, whatever the reference

    def has_voice(self, name: str) -> bool:
        return False  # voices are reference audio files, resolved by the voice library

    def prepare_voice(self, voice: Path) -> str:
        """Condition a voice now (warming the cache); returns its cache key."""

        return self._staged(lambda: self._conditionals(voice)[0])

    @property
    def streams_windows(self) -> bool:
        """Whether a chunk's audio can go out window by window (our T3 loop; not turbo's vocoder)."""
        return self._settings.t3_loop == "own" and self.windowed_vocoding

    # S3Gen may vocode part of a chunk (stream windows) or several chunks in one pass (synthesize_group);
    # turbo vocodes each chunk with trailing silence tokens: whole chunks, one at a time
    windowed_vocoding = True

    def synthesize(self, text: str, voice: Path | str | VoiceBlend | None, params: SynthesisParams) -> Clip:
        """Speak one chunk: T3 turns text into speech tokens, S3Gen turns tokens into 24 kHz audio."""
        return self.synthesize_windowed(text, voice, params, None)

    def synthesize_windowed(
        self,
        text: str,
        voice: Path | str | VoiceBlend | None,
        params: SynthesisParams,
        partial: PartialAudio | None,
    ) -> Clip:
        """As ``synthesize``; once ``partial.wanted``, the audio goes out in windows as T3 decodes."""
        with self._counted():
            return self._speak(text, voice, params, partial if self.streams_windows else None)

    @contextlib.contextmanager
    def _counted(self) -> Iterator[None]:
        """Count a call on the model while it runs: ``unload`` waits for the count to fall to 0."""
        with self._calls:
            self._running += 1
        try:
            yield
        finally:
            with self._calls:
                self._running -= 1
                self._calls.notify_all()

    def _speak(
        self,
        text: str,
        voice: Path | str | VoiceBlend | None,
        params: SynthesisParams,
        partial: PartialAudio | None,
    ) -> Clip:
        import torch

        model = self._require_model()
        batched = self._settings.t3_loop == "own"

        def prepare() -> tuple[Any, Any, Any, Any]:
            conds = self._voice_conds(voice)
            t3_cond = self._t3_cond(conds, params)
            seed_everything(params.seed)
            with torch.inference_mode():
                tokens = self._text_tokens(model, text, params)
                # upstream samples from the global RNG seeded just above
                speech = None if batched else self._sample_speech(model, t3_cond, tokens, params)
            return conds, t3_cond, tokens, speech

        conds, t3_cond, tokens, speech = self._staged(prepare)
        windows = None
        if batched:  # our loop: its own generator; waits in the batch without the lock
            with torch.inference_mode():
                if partial is None:
                    speech = self._sample_speech(model, t3_cond, tokens, params)
                else:
                    speech, windows = self._sample_streamed(model, t3_cond, tokens, params, conds, partial)
        if self._hit_budget(model, speech):
            note(self._budget_note())
        if partial is not None:
            wait_for_listener(partial, cancel_event())
            if (cancel := cancel_event()) is not None and cancel.is_set():
                raise Cancelled()

        def vocode() -> Any:
            if batched:
                seed_everything(params.seed)  # S3Gen's draws, as if T3 had run just after seeding
            return self._vocode_tokens(model, speech[0], conds, params, text=text)

        samples = self._staged(vocode, inference=True)
        if windows is not None and windows.started:
            windows.finish(samples)  # the stream's last piece: from the whole, as the file has it
        return Clip(samples, SAMPLE_RATE)

    def _voice_conds(self, voice: Path | str | VoiceBlend | None) -> Any:
        """The conditionals of a chunk's voice: a file's (cached), a blend's, or the built-in voice's."""
        _, conds = self._conditionals(
            voice if voice is None or isinstance(voice, VoiceBlend) else Path(voice)
        )
        return conds

    def _budget_note(self) -> str:
        """What a chunk's response says when T3 stopped at its budget (``_hit_budget``)."""
        limit = self._settings.max_new_tokens
        return f"speech reached the token budget (models.max_new_tokens={limit}) before its end: the audio may be cut"

    def _hit_budget(self, model: Any, speech: Any) -> bool:
        """Whether T3 stopped at its budget, not at its stop token (both loops keep the stop token)."""
        stop = model.t3.hp.stop_speech_token
        return speech.size(-1) >= self._settings.max_new_tokens and not bool((speech[0] == stop).any())

    def _vocode_tokens(
        self, model: Any, speech: Any, conds: Any, params: SynthesisParams, *, text: str
    ) -> Any:
        """Watermarked samples for one row of T3's tokens (its start, stop and control tokens dropped)."""
        return self._watermarked(model, self._vocode(model, self._speech_run(speech, text), conds), params)

    def _speech_run(self, speech: Any, text: str) -> Any:
        """The speech tokens S3Gen reads from one row of T3's: start, stop and control tokens dropped."""
        from chatterbox.models.s3tokenizer import drop_invalid_tokens

        speech = drop_invalid_tokens(speech)
        speech = speech[speech < _SPEECH_VOCAB].to(self.device)
        if speech.numel() == 0:
            raise GenerationError(f"{self.name} produced no speech tokens for: {text[:60]!r}")
        return speech

    def _watermarked(self, model: Any, samples: Any, params: SynthesisParams) -> Any:
        if params.watermark:  # in inference mode (the callers'): else its autograd graph outlives the call
            samples = model.watermarker.apply_watermark(samples, sample_rate=SAMPLE_RATE)
        return samples

    def _sample_streamed(
        self,
        model: Any,
        t3_cond: Any,
        tokens: Any,
        params: SynthesisParams,
        conds: Any,
        partial: PartialAudio,
    ) -> tuple[Any, WindowedAudio]:
        """Decode in the batch; meanwhile, once the listener waits, vocode windows of the tokens so far."""
        import torch

        from engines.t3_sequences import batched_tokens, submit

        sequence = self._in_inference(self._sequence, model, t3_cond, tokens, params)
        sequence.feed = feed = TokenFeed(keep=lambda token: token < _SPEECH_VOCAB, wanted=partial.wanted)
        ticket = submit(self._scheduler(model), sequence)

        def vocode(window: list[int]) -> Any:
            speech = torch.tensor(window, dtype=torch.long)
            return self._vocode_tokens(model, speech, conds, params, text="")

        try:
            windows = vocode_while_decoding(
                feed, partial, lambda window: self._staged(vocode, window, inference=True), SAMPLE_RATE
            )
        except BaseException:
            ticket.cancel.set()  # a failed window: its sequence leaves the batch
            raise
        ticket.wait()
        return batched_tokens(sequence, self.name), windows

    # ---- the stages a variant replaces ----------------------------------------------------------

    def _vocode(self, model: Any, speech: Any, conds: Any) -> Any:
        """24 kHz samples (numpy) for the speech tokens, in the voice of ``conds``."""
        wav, _ = model.s3gen.inference(speech_tokens=speech, ref_dict=dict(conds.gen))
        return wav.squeeze(0).detach().cpu().numpy()

    def _require_model(self) -> Any:
        if self.model is None:
            raise EngineUnavailableError("chatterbox is not loaded")
        return self.model

    def memory_bytes(self) -> int:
        """Bytes of the weights held now (T3, S3Gen, voice encoder); 0 when unloaded."""
        from engines.memory import module_bytes
        from engines.t3_fusion import packed_bytes

        # with the copies of T3's weights packed for CPU steps (models.cpu_packed_weights)
        return module_bytes(self.model) + packed_bytes(self.model.t3) if self.model is not None else 0

    def estimated_bytes(self) -> int | None:
        """Before a first load: the size of the weight files in its checkpoint folder (None: unknown)."""
        from engines.memory import file_bytes

        weights = self.weights()
        folder = weights.checkpoint_dir
        return file_bytes(Path(folder) / name for name in weights.required) if folder else None


def _files(folder: Path, names: tuple[str, ...]) -> tuple[Path, ...]:
    return tuple(folder / name for name in names)


def _free_accelerator_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
