"""A random-weight T3 and made-up requests, for the T3 benches (t3_loop_bench, batch_bench). Nothing
written to disk; import as ``from bench.random_t3 import ...`` once the repository root is on ``sys.path``."""

from __future__ import annotations

import contextlib

import torch

from tests.support.random_checkpoint import small_t3


def build_t3(layers: int | None, device: str = "cpu", dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """A random-weight T3, seeded (``layers``: fewer hidden layers, width unchanged)."""
    from chatterbox.models.t3 import T3

    with small_t3(layers) if layers else contextlib.nullcontext():
        torch.manual_seed(0)
        return T3().eval().to(device=device, dtype=dtype)


def made_up_request(
    t3: torch.nn.Module, *, seed: int, length: int, emotion: float
) -> tuple[object, torch.Tensor]:
    """A made-up voice (``T3Cond``) and text of ``length`` tokens in two CFG rows, on T3's device."""
    from chatterbox.models.t3.modules.cond_enc import T3Cond

    rng = torch.Generator().manual_seed(seed)
    device, dtype = t3.device, next(t3.parameters()).dtype
    cond = T3Cond(
        speaker_emb=torch.randn(1, 256, generator=rng).to(device, dtype),
        cond_prompt_speech_tokens=torch.randint(0, 6561, (1, t3.hp.speech_cond_prompt_len), generator=rng).to(
            device
        ),
        emotion_adv=emotion * torch.ones(1, 1, 1, device=device, dtype=dtype),
    )
    middle = torch.randint(3, 200, (1, length), generator=rng)
    row = torch.cat(
        [torch.tensor([[t3.hp.start_text_token]]), middle, torch.tensor([[t3.hp.stop_text_token]])], 1
    )
    return cond, torch.cat([row, row]).to(device)


def request(t3: torch.nn.Module, index: int) -> tuple[object, torch.Tensor]:
    """Request ``index`` of a batch: its own made-up voice and a text of 40-70 tokens (two CFG rows)."""
    return made_up_request(
        t3, seed=100 + index, length=40 + (index * 7) % 31, emotion=0.3 + 0.05 * (index % 8)
    )
