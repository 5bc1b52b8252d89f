"""T3 sampling for the Chatterbox engines: the request's conditioning, text tokens, and speech-token
decoding by upstream's ``T3.inference`` or our continuous-batching loop (``engines.t3_loop``).

A mixin of ``ChatterboxTTSEngine`` (split from ``engines/chatterbox.py`` by responsibility); the turbo
and multilingual engines override some of these hooks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, TypeVar

from config import ModelSettings
from engines.base import SynthesisParams
from engines.compute import Runner

T = TypeVar("T")


class T3Sampling:
    """Text to speech tokens; the engine supplies the attributes below."""

    name: str
    device: str | None
    _settings: ModelSettings
    _stage_lock: threading.RLock
    _scheduler_lock: threading.Lock  # around building the T3 scheduler (``_scheduler``)
    _t3_scheduler: Any
    _t3_dtype: Any
    _run: Runner  # where the model's torch work runs (engines.compute)

    def _staged(self, fn: Callable[..., T], *args: Any, lock: bool = True, inference: bool = False) -> T:
        """``fn(*args)`` where this model runs its torch work (``engines.compute``): under the stage
        lock (``lock``: conditioning and S3Gen take turns there) and in inference mode (``inference``).

        Never called with the stage lock held: on a CPU the call waits for the torch thread, whose
        work may be waiting for that lock.
        """

        def call() -> T:
            import torch

            with (
                self._stage_lock if lock else nullcontext(),
                torch.inference_mode() if inference else nullcontext(),
            ):
                return fn(*args)

        return self._run(call)

    def _in_inference(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in inference mode, without the stage lock (a T3 sequence's prefill inputs)."""
        return self._staged(fn, *args, lock=False, inference=True)

    def _t3_cond(self, conds: Any, params: SynthesisParams) -> Any:
        """This request's own T3 conditioning (T3 writes into it), with its exaggeration."""
        import torch
        from chatterbox.models.t3.modules.cond_enc import T3Cond

        return T3Cond(
            speaker_emb=conds.t3.speaker_emb,
            cond_prompt_speech_tokens=conds.t3.cond_prompt_speech_tokens,
            emotion_adv=params.exaggeration * torch.ones(1, 1, 1),
        ).to(device=self.device, dtype=self._t3_dtype)

    def _text_tokens(self, model: Any, text: str, params: SynthesisParams) -> Any:
        from chatterbox.tts import punc_norm

        return self._cfg_rows(model, model.tokenizer.text_to_tokens(punc_norm(text)))

    def _cfg_rows(self, model: Any, tokens: Any) -> Any:
        """Two rows (conditional + unconditional) framed by start and stop tokens.

        T3.inference always runs a batch of two. Upstream sends a single row when cfg_weight == 0
        and crashes; two rows with weight 0 give the plain output.
        """
        import torch
        import torch.nn.functional as F

        tokens = tokens.to(self.device)
        tokens = torch.cat([tokens, tokens], dim=0)
        tokens = F.pad(tokens, (1, 0), value=model.t3.hp.start_text_token)
        return F.pad(tokens, (0, 1), value=model.t3.hp.stop_text_token)

    def _sample_speech(self, model: Any, t3_cond: Any, tokens: Any, params: SynthesisParams) -> Any:
        """Speech tokens (a batch; row 0 is the answer), at most ``models.max_new_tokens`` of them.

        ``models.t3_loop``: upstream's ``T3.inference``, or our own loop (``engines.t3_loop``), which
        gives upstream's tokens for the same seed.
        """
        if self._settings.t3_loop == "upstream":
            return model.t3.inference(
                t3_cond=t3_cond,
                text_tokens=tokens,
                max_new_tokens=self._settings.max_new_tokens,
                temperature=params.temperature,
                cfg_weight=params.cfg_weight,
                repetition_penalty=params.repetition_penalty,
                min_p=params.min_p,
                top_p=params.top_p,
            )
        from engines.t3_sequences import decode_batched

        sequence = self._in_inference(self._sequence, model, t3_cond, tokens, params)
        return decode_batched(self._scheduler(model), sequence, self.name)

    def _sequence(self, model: Any, t3_cond: Any, tokens: Any, params: SynthesisParams) -> Any:
        """One chunk for our loop: its prefill, sampling, own seeded generator and budget."""
        from engines.t3_sequences import chatterbox_sequence, generator

        return chatterbox_sequence(
            model.t3,
            t3_cond,
            tokens,
            self._sampling(params),
            generator(self.device or "cpu", params.seed),
            self._settings.max_new_tokens,
            multilingual=self.name == "chatterbox-multilingual",
        )

    def _sampling(self, params: SynthesisParams) -> Any:
        from engines.t3_loop import Sampling

        return Sampling(
            temperature=params.temperature,
            top_p=params.top_p,
            min_p=params.min_p,
            top_k=params.top_k,
            repetition_penalty=params.repetition_penalty,
            cfg_weight=params.cfg_weight,
        )

    def _scheduler(self, model: Any) -> Any:
        """The continuous-batching scheduler of this model's T3 (one per load, its thread started lazily)."""
        from engines.t3_loop import Decoder, Style
        from engines.t3_scheduler import T3Scheduler

        stale = None
        # Not the stage lock: the decoder is built where the torch work runs (it fuses T3's weights),
        # and work waiting there may take the stage lock.
        with self._scheduler_lock:
            current = self._t3_scheduler
            if current is None or current.decoder.t3 is not model.t3:
                stale = current
                style: Style = "turbo" if self.name == "chatterbox-turbo" else "chatterbox"
                decoder = self._run(lambda: Decoder(model.t3, style, cuda_graphs=self._settings.cuda_graphs))
                self._t3_scheduler = current = T3Scheduler(
                    decoder, self._settings.t3_batch_size, self.name, self._run
                )
        if stale is not None:  # without the lock: its last step may wait behind the torch work
            stale.close()
        return current

    def batch_stats(self) -> dict[str, Any] | None:
        """The T3 batch now (size, limit, waiting, tokens/s); None when our loop is off or unused."""
        scheduler = self._t3_scheduler
        return scheduler.stats() if scheduler is not None else None
