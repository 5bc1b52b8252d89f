"""A decode step's sampling for the whole batch: the sequences that sample alike, sampled together.

Each sequence samples its token through upstream's logits processors (CFG, repetition penalty,
temperature, min_p, top_p), about 30 small operators a sequence and step: with 16 sequences 464 a
step and ~6.5 ms of the host's time on the development CPU, and on a GPU as many kernel launches,
which the host issues one by one while the GPU waits (docs/performance.md). Sequences with the same
parameters (the usual case: a long text's chunks, or requests at the server's defaults) go through
them once, as one stack of rows; each then draws its token from its own row with its own generator.

The processors are row by row (a row's result does not depend on the others), so a sequence gets the
same token together as alone: its repetition penalty sees its own history, padded with the start token
every Chatterbox history begins with (the penalty reads each token once, however often it occurs).
Turbo (whose history does not keep its start token) and multilingual sequences (whose alignment
analyzer reads each one's logits) sample one by one, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor

if TYPE_CHECKING:
    from engines.t3_loop import Live


def sample_all(lives: list[Live], logits: Tensor) -> None:
    """Sample every unfinished sequence's next token from a step's ``logits`` (its rows in order)."""
    groups: dict[tuple[Any, ...], list[tuple[Live, int]]] = {}
    offset = 0
    for live in lives:
        if not live.spent:
            groups.setdefault(_alike(live), []).append((live, offset))
        offset += live.rows
    for members in groups.values():
        if len(members) == 1:
            live, at = members[0]
            live.sample(logits[at : at + live.rows])
        else:
            _sample_together(members, logits)


def _alike(live: Live) -> tuple[Any, ...]:
    """What sequences sampled together share (rows and processors' parameters), or a key of its own."""
    if live.decoder.style != "chatterbox" or live.seq.analyzer is not None:
        return ("alone", id(live))
    s = live.seq.sampling
    return (live.rows, s.temperature, s.top_p, s.min_p, s.repetition_penalty)


def _sample_together(members: list[tuple[Live, int]], logits: Tensor) -> None:
    """``Live.sample`` for sequences with the same rows and parameters, the processors run once."""
    first = members[0][0]
    scores = torch.cat([logits[at : at + 1] for _, at in members]).float()
    if first.rows == 2:  # CFG: each sequence's weight on its own pair of rows, as Live.sample does
        uncond = torch.cat([logits[at + 1 : at + 2] for _, at in members]).float()
        weights = torch.stack([live.cfg for live, _ in members]).unsqueeze(1)
        scores = scores + weights * (scores - uncond)
    width = max(live.length for live, _ in members)
    seen = torch.stack([_history(live, width) for live, _ in members])
    probs = torch.softmax(first.processors(seen, scores), dim=-1)
    for row, (live, _) in enumerate(members):
        live.take(torch.multinomial(probs[row : row + 1], num_samples=1, generator=live.seq.generator))


def _history(live: Live, width: int) -> Tensor:
    """Its tokens so far, then start tokens up to ``width`` (unwritten places already hold them)."""
    history = live.history[0]
    if history.size(0) >= width:
        return history[:width]
    return F.pad(history, (0, width - history.size(0)), value=live.decoder.start)
