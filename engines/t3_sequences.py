"""Sequences for ``engines.t3_loop`` built the way upstream's loops build their first input.

``chatterbox_sequence`` mirrors ``T3.inference`` (English and multilingual): conditioning, text and
a start-of-speech token (with CFG the unconditional row's text zeroed), then the start token again
with its learned position 0, as upstream appends it. ``turbo_sequence`` mirrors
``T3.inference_turbo``: one row, no CFG.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import torch

from engines.device import DTYPES, fast_on_cpu
from engines.t3_loop import Decoder, Sampling, Sequence

if TYPE_CHECKING:  # the T3 modules import without the settings or audio stack (bench/gpu_bench.sh)
    from config import ModelSettings

logger = logging.getLogger(__name__)


def prepare_t3(t3: Any, settings: ModelSettings, name: str) -> Any:
    """Cast and compile T3 for our loop (``models.dtype``, ``models.compile``); the dtype set, or None."""
    if settings.t3_loop != "own":
        if settings.dtype != "float32" or settings.compile or settings.cpu_packed_weights:
            logger.warning(
                "%s: models.dtype, models.compile and models.cpu_packed_weights apply to models.t3_loop: own; "
                "ignored",
                name,
            )
        return None
    dtype = DTYPES[settings.dtype] if settings.dtype != "float32" else None
    if dtype is not None:
        t3.to(dtype=dtype)
        if t3.device.type == "cpu":
            _advise_cpu_precision(settings, name)
    if settings.compile:
        from engines.t3_backbone import compile_layers

        compile_layers(t3)
    if settings.cpu_packed_weights and t3.device.type == "cpu":
        from engines.t3_packing import pack_steps

        pack_steps(t3)
    return dtype


def _advise_cpu_precision(settings: ModelSettings, name: str) -> None:
    """A warning where ``models.dtype`` on this CPU is slower than it should be (docs/performance.md)."""
    if not fast_on_cpu(settings.dtype):
        logger.warning(
            "%s: models.dtype %s on this CPU has no fast kernels (bfloat16 needs AVX-512 BF16 or AMX): "
            "T3 may run slower than at float32",
            name,
            settings.dtype,
        )
    elif not settings.cpu_packed_weights:
        logger.warning(
            "%s: models.dtype bfloat16 on the CPU: set models.cpu_packed_weights too, for oneDNN's bf16 "
            'kernels in the decode steps (docs/performance.md, "bf16 on the CPU")',
            name,
        )


def generator(device: str | torch.device, seed: int) -> torch.Generator:
    """A generator of its own for one sequence: its tokens depend on its seed alone."""
    return torch.Generator(device=device).manual_seed(seed)


def chatterbox_sequence(
    t3: Any,
    t3_cond: Any,
    text_tokens: torch.Tensor,
    sampling: Sampling,
    rng: torch.Generator,
    max_new_tokens: int,
    *,
    multilingual: bool = False,
) -> Sequence:
    """A sequence for the English or multilingual T3; ``text_tokens`` are upstream's two CFG rows."""
    text_tokens = torch.atleast_2d(text_tokens).to(dtype=torch.long, device=t3.device)
    if sampling.cfg_weight == 0.0:
        text_tokens = text_tokens[:1]  # no guidance: the unconditional row would change nothing
    start = t3.hp.start_speech_token * torch.ones_like(text_tokens[:, :1])
    embeds, len_cond = t3.prepare_input_embeds(
        t3_cond=t3_cond, text_tokens=text_tokens, speech_tokens=start, cfg_weight=sampling.cfg_weight
    )
    bos = t3.speech_emb(start[:1]) + t3.speech_pos_emb.get_fixed_embedding(0)
    embeds = torch.cat([embeds, bos.expand(embeds.size(0), -1, -1)], dim=1)
    analyzer = None
    if multilingual:
        from engines.multilingual_fixes import tapped_analyzer

        analyzer = tapped_analyzer(t3, len_cond, text_tokens.size(-1))
    return Sequence(embeds, sampling, rng, max_new_tokens, analyzer=analyzer)


def turbo_sequence(
    t3: Any,
    t3_cond: Any,
    text_tokens: torch.Tensor,
    sampling: Sampling,
    rng: torch.Generator,
    max_new_tokens: int,
) -> Sequence:
    """A sequence for turbo's GPT-2 T3 (one row)."""
    start = t3.hp.start_speech_token * torch.ones_like(text_tokens[:, :1])
    embeds, _ = t3.prepare_input_embeds(
        t3_cond=t3_cond, text_tokens=text_tokens, speech_tokens=start, cfg_weight=0.0
    )
    return Sequence(embeds, sampling, rng, max_new_tokens)


def decode_one(decoder: Decoder, sequence: Sequence, name: str) -> torch.Tensor:
    """Decode one sequence alone; its tokens as a (1, n) tensor. Running out of budget is logged."""
    decoder.decode([sequence])
    return _tokens(sequence, name)


def decode_batched(scheduler: Any, sequence: Sequence, name: str) -> torch.Tensor:
    """Decode one sequence in the model's running batch (``engines.t3_scheduler``); as ``decode_one``.

    The current model call's cancel event goes with it: a caller that goes away takes it out of the
    batch at once (``engines.worker.Cancelled`` is raised here).
    """
    submit(scheduler, sequence).wait()
    return _tokens(sequence, name)


def submit(scheduler: Any, sequence: Sequence) -> Any:
    """Queue ``sequence`` in the model's batch with the current model call's cancel event and owner
    (the request it serves: the scheduler shares free places between requests); its ``Ticket``."""
    from engines.worker import call_owner, cancel_event

    return scheduler.submit(sequence, cancel_event(), call_owner())


def batched_tokens(sequence: Sequence, name: str) -> torch.Tensor:
    """A decoded sequence's tokens as a (1, n) tensor; running out of budget is logged."""
    return _tokens(sequence, name)


def _tokens(sequence: Sequence, name: str) -> torch.Tensor:
    if sequence.hit_budget:
        logger.warning(
            "%s: speech reached the token budget (models.max_new_tokens=%d) before its end; the audio may be cut",
            name,
            sequence.max_new_tokens,
        )
    return torch.tensor([sequence.tokens], dtype=torch.long, device=sequence.embeds.device)
