"""T3's transformer run with a preallocated KV cache and SDPA, for our own decoding loop.

The weights are upstream's modules (Llama 520M for the English and multilingual models, GPT-2 for
turbo); only the attention is ours, so that keys and values go into one cache allocated for the
whole generation (no concatenation per step), every layer uses ``scaled_dot_product_attention``,
and no layer returns its attention weights or hidden states unless asked for. The multilingual
alignment analyzer reads three heads: ``taps`` names those layers, which then also return their
attention probabilities (computed the eager way, as upstream does for them).

Rows are independent sequences, each at its own position: the cache is ``(layers, rows, heads,
length, head_dim)`` and row ``r`` attends to keys ``0..positions[r]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from engines.t3_fusion import fused_layers

Tap = Callable[[int, Tensor], None]  # (layer index, attention probabilities (rows, heads, q, k))


def device_positions(positions: list[int], device: torch.device) -> Tensor:
    """``positions`` as a (rows, 1) tensor on ``device``; on a GPU through pinned memory, without the
    host sync an ordinary copy of a Python list makes."""
    if device.type != "cuda":
        return torch.tensor(positions, device=device).unsqueeze(1)
    return torch.tensor(positions).pin_memory().to(device, non_blocking=True).unsqueeze(1)


class Step:
    """A decode step: keys ``0..span-1``; ``mask`` (rows, 1, 1, span) when rows sit at different positions."""

    def __init__(self, span: int, mask: Tensor | None) -> None:
        self.span, self.mask = span, mask


class KVCache:
    """Keys and values for ``rows`` sequences of up to ``length`` positions, allocated once."""

    def __init__(self, layers: int, rows: int, heads: int, length: int, head_dim: int, like: Tensor) -> None:
        shape = (layers, rows, heads, length, head_dim)
        self.keys = torch.zeros(shape, dtype=like.dtype, device=like.device)
        self.values = torch.zeros(shape, dtype=like.dtype, device=like.device)
        self.length = length


class Backbone:
    """The common loop over layers; subclasses say how one layer's projections work."""

    def __init__(self, tfmr: Any) -> None:
        self.tfmr = tfmr
        self.layers = self._layers()
        self.heads, self.head_dim = self._shape()
        self.graphs: Any = None  # engines.t3_graphs.StepGraphs with models.cuda_graphs on a GPU

    def new_cache(self, rows: int, length: int, like: Tensor) -> KVCache:
        """A cache for ``rows`` rows of ``length`` positions (with CUDA graphs: theirs, kept between batches)."""
        if self.graphs is not None:
            return self.graphs.cache_for(rows, length, like)
        return self.allocate(rows, length, like)

    def allocate(self, rows: int, length: int, like: Tensor) -> KVCache:
        return KVCache(len(self.layers), rows, self.heads, length, self.head_dim, like)

    def prefill(
        self, embeds: Tensor, cache: KVCache, rows: slice, taps: dict[int, Tap] | None = None
    ) -> Tensor:
        """Run ``embeds`` (rows, T, dim) from position 0 into ``cache[rows]``; the final hidden states."""
        length = embeds.size(1)
        positions = torch.arange(length, device=embeds.device).expand(embeds.size(0), -1)
        return self._run(embeds, positions, cache, rows, None, taps or {})

    def step(
        self, embeds: Tensor, positions: list[int], cache: KVCache, taps: dict[int, Tap] | None = None
    ) -> Tensor:
        """One new token per cache row (embeds: rows, 1, dim) at ``positions``; the final hidden states."""
        if self.graphs is not None and not taps:
            return self.graphs.step(embeds, positions, cache)
        device = embeds.device
        pos = device_positions(positions, device)
        span = max(positions) + 1
        mask = None  # rows all at one position see every cached key: SDPA without a mask is fastest
        if min(positions) != span - 1:
            mask = (torch.arange(span, device=device).unsqueeze(0) <= pos)[:, None, None, :]
        return self._run(embeds, pos, cache, slice(0, embeds.size(0)), Step(span, mask), taps or {})

    def _run(
        self,
        h: Tensor,
        positions: Tensor,
        cache: KVCache,
        rows: slice,
        mask: Step | None,
        taps: dict[int, Tap],
    ) -> Tensor:
        h = self._embed_positions(h, positions)
        extra = self._layer_inputs(h, positions)
        for index, layer in enumerate(self.layers):
            h = self._layer(index, layer, h, positions, cache, rows, mask, taps.get(index), extra)
        return self._final_norm(h)

    def _attend(
        self,
        index: int,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        positions: Tensor,
        cache: KVCache,
        rows: slice,
        mask: Step | None,
        tap: Tap | None,
        scale: float,
    ) -> Tensor:
        """Write k, v at their positions in the cache, attend over the cache; (rows, heads, T, head_dim)."""
        keys, values = cache.keys[index, rows], cache.values[index, rows]
        attn_mask: Tensor | None
        if mask is None:  # prefill: positions 0..T-1, causal
            length = q.size(2)
            keys[:, :, :length], values[:, :, :length] = k, v
            keys, values = keys[:, :, :length], values[:, :, :length]
            attn_mask = torch.ones(length, length, dtype=torch.bool, device=q.device).tril()[None, None]
        else:
            if mask.mask is None:  # every row at position span - 1: a plain copy, no index
                keys[:, :, mask.span - 1], values[:, :, mask.span - 1] = k[:, :, 0], v[:, :, 0]
            else:
                at = positions[:, 0]
                row = torch.arange(q.size(0), device=q.device)
                keys[row, :, at], values[row, :, at] = k[:, :, 0], v[:, :, 0]
            keys, values = keys[:, :, : mask.span], values[:, :, : mask.span]
            attn_mask = mask.mask
        if tap is None:
            return F.scaled_dot_product_attention(q, keys, values, attn_mask=attn_mask, scale=scale)
        scores = torch.matmul(q, keys.transpose(2, 3)) * scale
        if attn_mask is not None:
            scores = scores.masked_fill(~attn_mask, torch.finfo(scores.dtype).min)
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        tap(index, probs)
        return torch.matmul(probs, values)

    # ---- per architecture ----
    def _layers(self) -> list[Any]:
        raise NotImplementedError

    def _shape(self) -> tuple[int, int]:
        raise NotImplementedError

    def _embed_positions(self, h: Tensor, positions: Tensor) -> Tensor:
        return h

    def _layer_inputs(self, h: Tensor, positions: Tensor) -> Any:
        return None

    def _layer(
        self,
        index: int,
        layer: Any,
        h: Tensor,
        positions: Tensor,
        cache: KVCache,
        rows: slice,
        mask: Step | None,
        tap: Tap | None,
        extra: Any,
    ) -> Tensor:
        raise NotImplementedError

    def _final_norm(self, h: Tensor) -> Tensor:
        raise NotImplementedError


class LlamaBackbone(Backbone):
    """Upstream ``LlamaModel`` (the English and multilingual T3), its projections fused (``engines.t3_fusion``)."""

    def __init__(self, tfmr: Any) -> None:
        super().__init__(tfmr)
        self.fused = fused_layers(tfmr)

    def _layers(self) -> list[Any]:
        return list(self.tfmr.layers)

    def _shape(self) -> tuple[int, int]:
        attn = self.tfmr.layers[0].self_attn
        return self.tfmr.config.num_attention_heads, attn.head_dim

    def _layer_inputs(self, h: Tensor, positions: Tensor) -> Any:
        cos, sin = self.tfmr.rotary_emb(h, positions)  # llama3 scaling
        return cos.unsqueeze(1), sin.unsqueeze(1)

    def _layer(
        self,
        index: int,
        layer: Any,
        h: Tensor,
        positions: Tensor,
        cache: KVCache,
        rows: slice,
        mask: Step | None,
        tap: Tap | None,
        extra: Any,
    ) -> Tensor:
        fused = self.fused[index]
        attn = layer.self_attn
        x = layer.input_layernorm(h)
        q_size, k_size, _ = fused.qkv_linear.sizes
        qkv = fused.qkv(x)
        heads = (*x.shape[:-1], -1, attn.head_dim)
        # q and k turned together: upstream's apply_rotary_pos_emb, op for op, on both at once
        qk = qkv[..., : q_size + k_size].view(heads).transpose(1, 2)
        cos, sin = extra
        qk = (qk * cos) + (_rotate_half(qk) * sin)
        q, k = qk.split([q_size // attn.head_dim, k_size // attn.head_dim], dim=1)
        v = qkv[..., q_size + k_size :].view(heads).transpose(1, 2)
        out = self._attend(index, q, k, v, positions, cache, rows, mask, tap, attn.scaling)
        h = h + fused.o(out.transpose(1, 2).reshape(*x.shape[:-1], -1))
        return h + fused.mlp(layer.post_attention_layernorm(h))

    def _final_norm(self, h: Tensor) -> Tensor:
        return self.tfmr.norm(h)


def _rotate_half(x: Tensor) -> Tensor:
    """transformers' ``rotate_half``."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class GPT2Backbone(Backbone):
    """Upstream ``GPT2Model`` (turbo's T3); learned absolute positions."""

    def _layers(self) -> list[Any]:
        return list(self.tfmr.h)

    def _shape(self) -> tuple[int, int]:
        attn = self.tfmr.h[0].attn
        return attn.num_heads, attn.head_dim

    def _embed_positions(self, h: Tensor, positions: Tensor) -> Tensor:
        return h + self.tfmr.wpe(positions)

    def _layer(
        self,
        index: int,
        layer: Any,
        h: Tensor,
        positions: Tensor,
        cache: KVCache,
        rows: slice,
        mask: Step | None,
        tap: Tap | None,
        extra: Any,
    ) -> Tensor:
        attn = layer.attn
        x = layer.ln_1(h)
        q, k, v = attn.c_attn(x).split(attn.split_size, dim=2)
        shape = (*x.shape[:-1], -1, attn.head_dim)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        out = self._attend(index, q, k, v, positions, cache, rows, mask, tap, attn.head_dim**-0.5)
        h = h + attn.c_proj(out.transpose(1, 2).reshape(*x.shape[:-1], -1))
        return h + layer.mlp(layer.ln_2(h))

    def _final_norm(self, h: Tensor) -> Tensor:
        return self.tfmr.ln_f(h)


def backbone_for(t3: Any) -> Backbone:
    """The backbone matching T3's transformer."""
    return GPT2Backbone(t3.tfmr) if hasattr(t3.tfmr, "wpe") else LlamaBackbone(t3.tfmr)


def compile_layers(t3: Any) -> None:
    """``torch.compile`` each transformer layer's MLP and projections (shapes vary: dynamic); the
    attention itself is ours. Llama: the fused ones our loop calls (``engines.t3_fusion``)."""
    backbone = backbone_for(t3)
    if isinstance(backbone, LlamaBackbone):
        for fused in backbone.fused:
            qkv, o, _, _ = fused.linears
            fused.qkv = torch.compile(qkv.plain, dynamic=True)
            fused.o = torch.compile(o.plain, dynamic=True)
            fused.mlp = torch.compile(fused.plain_mlp, dynamic=True)
        return
    for layer in backbone.layers:
        layer.mlp = torch.compile(layer.mlp, dynamic=True)
        layer.attn.c_attn = torch.compile(layer.attn.c_attn, dynamic=True)
        layer.attn.c_proj = torch.compile(layer.attn.c_proj, dynamic=True)
