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

from engines.t3_backbone import Backbone, KVCache, backbone_for

Style = Literal["chatterbox", "turbo"]
CHECK_EVERY = 8  # decode steps between two reads of the stop flags (the only host syncs)


@dataclasses.dataclass(frozen=True)
class Sampling:
    """One sequence's sampling parameters (upstream's names and meanings)."""

    temperature: float = 0.8
    top_p: float = 1.0
    min_p: float = 0.05
    top_k: int = 1000  # turbo only
    repetition_penalty: float = 1.2
    cfg_weight: float = 0.5  # chatterbox only; 0: one row, no guidance


@dataclasses.dataclass
class Sequence:
    """One sequence to decode: its prefill embeddings, parameters, generator and budget."""

    embeds: Tensor  # (rows, length, dim): two rows with CFG (conditional, unconditional), else one
    sampling: Sampling
    generator: torch.Generator
    max_new_tokens: int
    analyzer: Any = None  # multilingual alignment analyzer (reads ``taps``), or None
    tokens: list[int] = dataclasses.field(default_factory=list)  # filled by the decoder
    hit_budget: bool = False


class Decoder:
    """Decodes batches of sequences of one T3 model (``style`` picks upstream's loop to match)."""

    def __init__(self, t3: Any, style: Style, check_every: int = CHECK_EVERY) -> None:
        self.t3 = t3
        self.style = style
        self.check_every = check_every
        self.backbone: Backbone = backbone_for(t3)
        self.stop = t3.hp.stop_speech_token
        self.start = t3.hp.start_speech_token

    @torch.inference_mode()
    def decode(self, sequences: list[Sequence]) -> list[Sequence]:
        """Run every sequence to its stop token or budget; fills ``tokens`` and ``hit_budget``."""
        state = self.start_batch(sequences)
        while not state.finished():
            self.step(state)
        state.collect()
        return sequences

    def start_batch(self, sequences: list[Sequence]) -> _Batch:
        """Prefill every sequence into one cache and sample each one's first token."""
        rows = [seq.embeds.size(0) for seq in sequences]
        # Every row steps until the whole batch ends: room for the longest prompt plus the largest budget.
        length = (
            max(seq.embeds.size(1) for seq in sequences) + max(seq.max_new_tokens for seq in sequences) + 2
        )
        cache = self.backbone.new_cache(sum(rows), length, like=sequences[0].embeds)
        batch = _Batch(self, sequences, rows, cache)
        offset = 0
        for index, seq in enumerate(sequences):
            taps = _taps(seq.analyzer, 0)  # the prefill runs this sequence's rows alone
            hidden = self.backbone.prefill(seq.embeds, cache, slice(offset, offset + rows[index]), taps)
            batch.sample(index, self.t3.speech_head(hidden[:, -1:])[:, -1])
            offset += rows[index]
        batch.positions = [
            seq.embeds.size(1) for seq, n in zip(sequences, rows, strict=True) for _ in range(n)
        ]
        return batch

    def step(self, batch: _Batch) -> None:
        """Feed every sequence's last token, sample the next one."""
        embeds = torch.cat([self._embed(batch, index) for index in range(len(batch.sequences))])
        taps: dict[int, Any] = {}
        offset = 0
        for seq, n in zip(batch.sequences, batch.rows, strict=True):
            for layer, tap in _taps(seq.analyzer, offset).items():
                taps[layer] = _chain(taps.get(layer), tap)
            offset += n
        hidden = self.backbone.step(embeds, batch.positions, batch.cache, taps)
        logits = self.t3.speech_head(hidden)[:, -1]
        offset = 0
        for index, n in enumerate(batch.rows):
            batch.sample(index, logits[offset : offset + n])
            offset += n
        batch.positions = [p + 1 for p in batch.positions]
        batch.steps += 1

    def _embed(self, batch: _Batch, index: int) -> Tensor:
        token = batch.history[index][:, batch.lengths[index] - 1 : batch.lengths[index]]
        embed = self.t3.speech_emb(token)
        if self.style == "chatterbox":  # upstream: the learned position of the i-th generated token
            embed = embed + self.t3.speech_pos_emb.get_fixed_embedding(batch.steps + 1)
        return embed.expand(batch.rows[index], -1, -1)


class _Batch:
    """The running state of one batch: cache, positions, each sequence's history and stop flag."""

    def __init__(self, decoder: Decoder, sequences: list[Sequence], rows: list[int], cache: KVCache) -> None:
        self.decoder = decoder
        self.sequences = sequences
        self.rows = rows
        self.cache = cache
        self.positions: list[int] = []
        self.steps = 0
        device = sequences[0].embeds.device
        width = max(seq.max_new_tokens for seq in sequences) + 2
        start = decoder.start
        # History per sequence: upstream's ``generated_ids`` (chatterbox: start token + sampled).
        self.history = [torch.full((1, width), start, dtype=torch.long, device=device) for _ in sequences]
        self.lengths = [1 if decoder.style == "chatterbox" else 0 for _ in sequences]
        self.done = torch.zeros(len(sequences), dtype=torch.bool, device=device)
        self.sampled = [0 for _ in sequences]
        self.processors = [_processors(decoder.style, seq.sampling) for seq in sequences]

    def sample(self, index: int, logits: Tensor) -> None:
        """Sample sequence ``index``'s next token from its rows' logits (upstream's order of steps)."""
        seq, style = self.sequences[index], self.decoder.style
        if self.sampled[index] >= self._budget(index):
            return  # out of budget: it waits for the others, its tokens are final
        logits = logits.float()
        if style == "chatterbox" and logits.size(0) == 2:
            cond, uncond = logits[0:1], logits[1:2]
            logits = cond + torch.as_tensor(seq.sampling.cfg_weight, device=cond.device, dtype=cond.dtype) * (
                cond - uncond
            )
        if seq.analyzer is not None:
            last = int(self.history[index][0, self.lengths[index] - 1].item())
            logits = seq.analyzer.step(logits, next_token=last)
        length = self.lengths[index]
        seen = self.history[index][:, : max(length, 1)]  # turbo's first step sees the start token
        logits = self.processors[index](seen, logits)
        probs = torch.softmax(logits, dim=-1)
        token = torch.multinomial(probs, num_samples=1, generator=seq.generator)
        if length < self.history[index].size(1):
            self.history[index][:, length : length + 1] = token
        self.lengths[index] = length + 1
        self.sampled[index] += 1
        self.done[index] |= token.view(()) == self.decoder.stop
        if self.sampled[index] >= self._budget(index):
            self.done[index] = True

    def _budget(self, index: int) -> int:
        seq = self.sequences[index]
        return seq.max_new_tokens + (1 if self.decoder.style == "turbo" else 0)

    def finished(self) -> bool:
        if all(self.sampled[i] >= self._budget(i) for i in range(len(self.sequences))):
            return True
        if (
            any(seq.analyzer is not None for seq in self.sequences)
            or self.steps % self.decoder.check_every == 0
        ):
            return bool(self.done.all())
        return False

    def collect(self) -> None:
        """Each sequence's tokens up to its first stop (chatterbox keeps the stop, as upstream does)."""
        first = 1 if self.decoder.style == "chatterbox" else 0
        for index, seq in enumerate(self.sequences):
            sampled = self.history[index][0, first : self.lengths[index]].tolist()
            if self.decoder.stop in sampled:
                cut = sampled.index(self.decoder.stop)
                seq.tokens = sampled[: cut + 1] if self.decoder.style == "chatterbox" else sampled[:cut]
            else:
                seq.tokens = sampled[: self._budget(index)]
                seq.hit_budget = True


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
