"""Sampling a step's sequences together (``engines.t3_sampling``) gives each the token it samples alone."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from engines.t3_loop import Live, Sampling, Sequence
from engines.t3_sampling import sample_all

VOCAB, START, STOP = 48, 45, 46
PENALTY = Sampling(temperature=0.7, top_p=0.9, min_p=0.02, repetition_penalty=2.0)


def _lives(specs: list[tuple[Sampling, int, int]]) -> list[Live]:
    """Sequences (parameters, seed, tokens sampled alone first: histories of different lengths)."""
    decoder = SimpleNamespace(style="chatterbox", start=START, stop=STOP)
    lives = []
    for sampling, seed, ahead in specs:
        rows = 2 if sampling.cfg_weight > 0 else 1
        seq = Sequence(torch.zeros(rows, 3, 4), sampling, torch.Generator().manual_seed(seed), 40 + seed % 7)
        live = Live(decoder, seq)  # type: ignore[arg-type]
        for step in range(ahead):
            live.sample(_logits(rows, 1000 + seed * 31 + step))
        lives.append(live)
    return lives


def _logits(rows: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Logits over a small vocabulary, where tokens recur: penalties and filters change what is drawn."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(rows, VOCAB, generator=generator).to(dtype)


def _history(live: Live) -> list[int]:
    return live.history[0, : live.length].tolist()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_sequences_sampled_together_draw_what_they_draw_alone(dtype: torch.dtype) -> None:
    """Two groups alike (CFG at two weights; cfg 0), a sequence with parameters of its own, histories
    of different lengths and budgets, logits in the model's dtype: 30 steps, token for token."""
    specs = [
        (Sampling(), 1, 0),
        (Sampling(cfg_weight=0.3), 2, 3),  # alike but for its CFG weight
        (Sampling(), 3, 5),
        (PENALTY, 4, 1),  # parameters of its own
        (Sampling(cfg_weight=0.0), 5, 2),
        (Sampling(cfg_weight=0.0), 6, 0),
        (Sampling(), 7, 9),
    ]
    together, alone = _lives(specs), _lives(specs)
    rows = sum(live.rows for live in together)
    for step in range(30):
        logits = _logits(rows, step, dtype)
        sample_all(together, logits)
        offset = 0
        for live in alone:
            live.sample(logits[offset : offset + live.rows])
            offset += live.rows
        assert [_history(live) for live in together] == [_history(live) for live in alone], f"step {step}"
    assert len({tuple(_history(live)) for live in together}) == len(specs)  # not all the same draws


def test_a_spent_sequence_samples_nothing_while_the_others_go_on() -> None:
    """A sequence at its budget keeps its tokens; its rows still sit in the step's logits."""
    lives = _lives([(Sampling(), 1, 0), (Sampling(), 2, 0)])
    lives[0].budget = 2
    for step in range(4):
        sample_all(lives, _logits(4, step))
    assert (lives[0].sampled, lives[1].sampled) == (2, 4)
    assert lives[0].length == 3  # the start token and its two
