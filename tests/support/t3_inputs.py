"""Small T3 models and made-up inputs for the decoding-loop tests (tests/unit/test_t3_*.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


def build_t3(config_context: contextlib.AbstractContextManager, hp: object) -> nn.Module:
    from chatterbox.models.t3 import T3

    with config_context, torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        t3 = T3(hp).eval()
    if t3.is_gpt:
        del t3.tfmr.wte  # as upstream's turbo loader does
    return t3


def made_up_cond(t3: nn.Module, seed: int) -> object:
    """A fresh T3Cond (T3 writes into it) for a made-up voice."""
    from chatterbox.models.t3.modules.cond_enc import T3Cond

    rng = torch.Generator().manual_seed(seed)
    prompt = torch.randint(0, 6561, (1, t3.hp.speech_cond_prompt_len), generator=rng)
    return T3Cond(
        speaker_emb=torch.randn(1, 256, generator=rng),
        cond_prompt_speech_tokens=prompt,
        emotion_adv=0.6 * torch.ones(1, 1, 1),
    ).to(dtype=next(t3.parameters()).dtype)  # as the engine casts it for models.dtype


def made_up_text(t3: nn.Module, length: int = 20) -> torch.Tensor:
    """Two CFG rows of text framed by start and stop, as the engine sends them."""
    middle = torch.randint(3, 200, (1, length), generator=torch.Generator().manual_seed(length))
    row = torch.cat(
        [torch.tensor([[t3.hp.start_text_token]]), middle, torch.tensor([[t3.hp.stop_text_token]])], 1
    )
    return torch.cat([row, row])


@contextlib.contextmanager
def likely_stop(t3: nn.Module, bias: float) -> Iterator[None]:
    """Give the speech head a bias towards the stop token (random weights never stop otherwise)."""
    original = t3.speech_head
    head = nn.Linear(original.in_features, original.out_features, bias=True).to(original.weight.dtype)
    with torch.no_grad():
        head.weight.copy_(original.weight)
        head.bias.zero_()
        head.bias[t3.hp.stop_speech_token] = bias
    t3.speech_head = head
    try:
        yield
    finally:
        t3.speech_head = original
