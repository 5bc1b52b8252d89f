"""Our own T3 decoding loop: the tokens of upstream ``T3.inference`` / ``inference_turbo``, faster.

Upstream decodes one sequence with a growing KV cache, asks every layer for its attention weights and
hidden states, and syncs device and host every token for the stop check. Here:

- the cache is allocated once (``engines.t3_backbone``), attention is SDPA, and only the layers the
  multilingual alignment analyzer reads return attention probabilities;
- a batch holds independent sequences (``Sequence``), each with its own prefill embeddings (its
  conditionals), sampling parameters, ``torch.Generator`` and token budget; CFG is two rows of one
  sequence, combined before sampling;
- sampling stays on the device, with upstream's own logits processors in upstream's order, so at
  fp32 the tokens equal upstream's for the same seed; the stop check reads a device flag every
  ``check_every`` steps (tokens a finished sequence samples past its stop are dropped).

``decode`` runs a whole batch to the end; ``Decoder.start`` / ``step`` are the pieces a continuous
batching scheduler builds on.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import torch
from torch import Tensor

from engines.base import SynthesisParams
from engines.t3_backbone import Backbone, KVCache, backbone_for
from engines.t3_fusion import speech_head
from engines.t3_sampling import sample_all

Style = Literal["chatterbox", "turbo"]
CHECK_EVERY = 8  # decode steps between two reads of the stop flags (the only host syncs)


@dataclasses.dataclass(frozen=True)
class Sampling:
    """One sequence's sampling parameters (upstream's names and meanings; the server's defaults)."""

    temperature: float = SynthesisParams.temperature
    top_p: float = SynthesisParams.top_p
    min_p: float = SynthesisParams.min_p
    top_k: int = SynthesisParams.top_k  # turbo only
    repetition_penalty: float = SynthesisParams.repetition_penalty
    cfg_weight: float = SynthesisParams.cfg_weight  # chatterbox only; 0: one row, no guidance


@dataclasses.dataclass
class Sequence:
    """One sequence to decode: its prefill embeddings, parameters, generator and budget."""

    embeds: Tensor  # (rows, length, dim): two rows with CFG (conditional, unconditional), else one
    sampling: Sampling
    generator: torch.Generator
    max_new_tokens: int
    analyzer: Any = None  # multilingual alignment analyzer (reads ``taps``), or None
    feed: Any = None  # ``engines.s3gen_stream.TokenFeed``: its tokens published as they come (streaming)
    tokens: list[int] = dataclasses.field(default_factory=list)  # filled by the decoder
    hit_budget: bool = False


class Decoder:
    """Decodes batches of sequences of one T3 model (``style`` picks upstream's loop to match)."""

    def __init__(
        self, t3: Any, style: Style, check_every: int = CHECK_EVERY, cuda_graphs: bool = False
    ) -> None:
        self.t3 = t3
        self.style = style
        self.check_every = check_every
        self.backbone: Backbone = backbone_for(t3)
        if cuda_graphs and next(t3.parameters()).is_cuda:  # models.cuda_graphs: no graphs on a CPU
            from engines.t3_graphs import StepGraphs

            self.backbone.graphs = StepGraphs(self.backbone)
        self.stop = t3.hp.stop_speech_token
        self.start = t3.hp.start_speech_token

    @torch.inference_mode()
    def decode(self, sequences: list[Sequence]) -> list[Sequence]:
        """Run every sequence to its stop token or budget; fills ``tokens`` and ``hit_budget``."""
        state = self.start_batch(sequences)
        while not state.finished():
            self.step(state)
        for live in state.lives:
            live.collect()
        return sequences

    def start_batch(self, sequences: list[Sequence]) -> _Batch:
        """Prefill every sequence into one cache and sample each one's first token."""
        lives = [Live(self, seq) for seq in sequences]
        # Every row steps until the whole batch ends: room for the longest prompt plus the largest budget.
        length = (
            max(seq.embeds.size(1) for seq in sequences) + max(seq.max_new_tokens for seq in sequences) + 2
        )
        cache = self.backbone.new_cache(sum(live.rows for live in lives), length, like=sequences[0].embeds)
        offset = 0
        for live in lives:
            self.prefill(live, cache, offset)
            offset += live.rows
        return _Batch(self, lives, cache)

    def prefill(self, live: Live, cache: KVCache, offset: int) -> None:
        """Run one sequence's prompt into cache rows ``offset..`` and sample its first token."""
        taps = _taps(live.seq.analyzer, 0)  # the prefill runs this sequence's rows alone
        hidden = self.backbone.prefill(live.seq.embeds, cache, slice(offset, offset + live.rows), taps)
        live.sample(speech_head(self.t3)(hidden[:, -1:])[:, -1])

    def step(self, batch: _Batch) -> None:
        """Feed every sequence's last token, sample the next one."""
        self.advance(batch.lives, batch.positions, batch.cache)
        batch.positions = [p + 1 for p in batch.positions]
        batch.steps += 1

    def advance(self, lives: list[Live], positions: list[int], cache: KVCache) -> None:
        """One decode step for ``lives``, which fill cache rows ``0..`` in order, at ``positions``."""
        embeds = torch.cat([live.embed() for live in lives])
        taps: dict[int, Any] = {}
        offset = 0
        for live in lives:
            for layer, tap in _taps(live.seq.analyzer, offset).items():
                taps[layer] = _chain(taps.get(layer), tap)
            offset += live.rows
        hidden = self.backbone.step(embeds, positions, cache, taps)
        sample_all(lives, speech_head(self.t3)(hidden)[:, -1])


class Live:
    """One sequence being decoded: its history, sampled count, logits processors and stop flag."""

    def __init__(self, decoder: Decoder, seq: Sequence) -> None:
        self.decoder = decoder
        self.seq = seq
        self.rows = seq.embeds.size(0)
        self.prompt = seq.embeds.size(1)
        device = seq.embeds.device
        # Upstream's ``generated_ids`` (chatterbox: start token + sampled).
        self.history = torch.full((1, seq.max_new_tokens + 2), decoder.start, dtype=torch.long, device=device)
        self.length = 1 if decoder.style == "chatterbox" else 0
        self.sampled = 0
        self.budget = seq.max_new_tokens + (1 if decoder.style == "turbo" else 0)
        self.done = torch.zeros((), dtype=torch.bool, device=device)  # read every few steps only
        self.processors = _processors(decoder.style, seq.sampling)
        # Made once, not per step: a tensor made from a Python number on a GPU is a copy that waits
        # for the GPU to finish (a host sync), which would stop the CPU from running ahead of it.
        self.cfg = torch.tensor(seq.sampling.cfg_weight, dtype=torch.float32, device=device)

    @property
    def spent(self) -> bool:
        """Its budget is used up: its tokens are final."""
        return self.sampled >= self.budget

    def embed(self) -> Tensor:
        """The input of its next step: its last token, on each of its rows."""
        t3 = self.decoder.t3
        embed = t3.speech_emb(self.history[:, self.length - 1 : self.length])
        if self.decoder.style == "chatterbox":  # upstream: the learned position of the i-th generated token
            # = get_fixed_embedding(sampled), read as the table's row: no index tensor copied to the device
            embed = embed + t3.speech_pos_emb.emb.weight[self.sampled].view(1, 1, -1)
        return embed.expand(self.rows, -1, -1)

    def sample(self, logits: Tensor) -> None:
        """Sample the next token from its rows' logits (upstream's order of steps)."""
        seq, style = self.seq, self.decoder.style
        if self.spent:
            return  # it waits for the others
        logits = logits.float()
        if style == "chatterbox" and logits.size(0) == 2:
            cond, uncond = logits[0:1], logits[1:2]
            logits = cond + self.cfg * (cond - uncond)
        if seq.analyzer is not None:
            last = int(self.history[0, self.length - 1].item())
            logits = seq.analyzer.step(logits, next_token=last)
        length = self.length
        seen = self.history[:, : max(length, 1)]  # turbo's first step sees the start token
        logits = self.processors(seen, logits)
        probs = torch.softmax(logits, dim=-1)
        self.take(torch.multinomial(probs, num_samples=1, generator=seq.generator))

    def take(self, token: Tensor) -> None:
        """Append its sampled ``token`` (1, 1) to its history; it stops once that is the stop token."""
        length = self.length
        if length < self.history.size(1):
            self.history[:, length : length + 1] = token
        self.length = length + 1
        self.sampled += 1
        self.done = self.done | (token.view(()) == self.decoder.stop)

    def so_far(self) -> list[int]:
        """Its tokens sampled so far, up to its first stop (a host sync: read at the scheduler's checks)."""
        first = 1 if self.decoder.style == "chatterbox" else 0
        sampled = self.history[0, first : min(self.length, first + self.budget)].tolist()
        stop = self.decoder.stop
        return sampled[: sampled.index(stop)] if stop in sampled else sampled

    def collect(self) -> None:
        """Its tokens up to its first stop (chatterbox keeps the stop, as upstream does)."""
        seq, stop = self.seq, self.decoder.stop
        first = 1 if self.decoder.style == "chatterbox" else 0
        sampled = self.history[0, first : self.length].tolist()
        if stop in sampled:
            cut = sampled.index(stop)
            seq.tokens = sampled[: cut + 1] if self.decoder.style == "chatterbox" else sampled[:cut]
        else:
            seq.tokens = sampled[: self.budget]
            seq.hit_budget = True


def stopped(lives: list[Live]) -> list[bool]:
    """Which sequences have sampled their stop token (one host sync for all of them)."""
    return torch.stack([live.done for live in lives]).tolist()


class _Batch:
    """A fixed batch: its cache, the rows' positions, the sequences' state."""

    def __init__(self, decoder: Decoder, lives: list[Live], cache: KVCache) -> None:
        self.decoder = decoder
        self.lives = lives
        self.cache = cache
        self.positions = [live.prompt for live in lives for _ in range(live.rows)]
        self.steps = 0

    def finished(self) -> bool:
        if all(live.spent for live in self.lives):
            return True
        if (
            any(live.seq.analyzer is not None for live in self.lives)
            or self.steps % self.decoder.check_every == 0
        ):
            return all(s or live.spent for s, live in zip(stopped(self.lives), self.lives, strict=True))
        return False


def _processors(style: Style, sampling: Sampling) -> Any:
    """Upstream's logits processors for this loop, in upstream's order."""
    from transformers.generation.logits_process import (
        LogitsProcessorList,
        MinPLogitsWarper,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    chain = LogitsProcessorList()
    if style == "turbo":  # inference_turbo
        if sampling.temperature > 0 and sampling.temperature != 1.0:
            chain.append(TemperatureLogitsWarper(sampling.temperature))
        if sampling.top_k > 0:
            chain.append(TopKLogitsWarper(sampling.top_k))
        if sampling.top_p < 1.0:
            chain.append(TopPLogitsWarper(sampling.top_p))
        if sampling.repetition_penalty != 1.0:
            chain.append(RepetitionPenaltyLogitsProcessor(sampling.repetition_penalty))
        return chain
    chain.append(RepetitionPenaltyLogitsProcessor(penalty=float(sampling.repetition_penalty)))
    if sampling.temperature != 1.0:
        chain.append(_Divide(sampling.temperature))
    chain.append(MinPLogitsWarper(min_p=sampling.min_p))
    if sampling.top_p < 1.0:  # at 1.0 it only drops tokens of probability 0: a sort a step for nothing
        chain.append(TopPLogitsWarper(top_p=sampling.top_p))
    return chain


class _Divide:
    """``logits / temperature``, as ``T3.inference`` writes it (not HF's warper)."""

    def __init__(self, temperature: float) -> None:
        self.temperature = temperature

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        return scores / self.temperature


def _taps(analyzer: Any, row: int) -> dict[int, Any]:
    """Hooks that hand the analyzer its heads' attention for its conditional row."""
    if analyzer is None:
        return {}
    return {layer: _tap_for(analyzer, slot, head, row) for slot, (layer, head) in enumerate(analyzer.heads)}


def _tap_for(analyzer: Any, slot: int, head: int, row: int) -> Any:
    def tap(_layer: int, probs: Tensor) -> None:
        analyzer.last_aligned_attns[slot] = probs[row, head].cpu()

    return tap


def _chain(first: Any, second: Any) -> Any:
    if first is None:
        return second

    def both(layer: int, probs: Tensor) -> None:
        first(layer, probs)
        second(layer, probs)

    return both
