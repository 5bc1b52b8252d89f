"""Fused projections for our Llama decode step: q, k and v as one matmul, gate and up as another.

At one or two rows a step is a series of small matrix-vector products; four a layer (qkv, o,
gate_up, down) instead of seven read the same weights with fewer calls. The fused weight is one tensor; the upstream modules'
own weights become views into it, so nothing is stored twice and upstream's forward
(``models.t3_loop: upstream``) reads the very same numbers. On the CPU one matmul over the
concatenated weights gives bitwise the outputs of the separate ones (``tests/unit/test_t3_loop.py``
checks our tokens against upstream's, fused).

A model moved or cast after fusing gets new, separate weights: ``fused_layers`` notices (the module
weights no longer point into the fused tensor) and fuses again; until then the old fused tensors are
still held, so cast or move a model before its first decoder, as the engines do (``prepare_t3``).
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engines.t3_packing import RowsLinear, packs_steps


class FusedLinear:
    """Several ``nn.Linear`` of one input as one matmul; each module's weight (and bias) a view into it."""

    def __init__(self, *linears: nn.Linear) -> None:
        with torch.no_grad():
            self.weight = torch.cat([linear.weight.detach() for linear in linears])
            biases = [linear.bias for linear in linears]
            self.bias = (
                torch.cat([b.detach() for b in biases]) if all(b is not None for b in biases) else None
            )
            self.sizes = [linear.out_features for linear in linears]
            for linear, rows in zip(linears, self._rows(), strict=True):
                linear.weight = nn.Parameter(self.weight[rows], requires_grad=linear.weight.requires_grad)
                if self.bias is not None and linear.bias is not None:
                    linear.bias = nn.Parameter(self.bias[rows], requires_grad=linear.bias.requires_grad)
        self.parts = linears

    def _rows(self) -> list[slice]:
        """Each part's rows of the fused weight."""
        return [slice(end - size, end) for size, end in zip(self.sizes, accumulate(self.sizes), strict=True)]

    def __call__(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def current(self) -> bool:
        """Whether the modules still read this fused weight (not moved or cast since)."""
        return all(
            part.weight.data_ptr() == self.weight[rows].data_ptr()
            and part.weight.dtype == self.weight.dtype
            and part.weight.device == self.weight.device
            for part, rows in zip(self.parts, self._rows(), strict=True)
        )


class FusedLlamaLayer:
    """One Llama layer's projections, fused: ``qkv(x)``, ``o(x)`` and ``mlp(x)`` (``compile_layers``
    may compile them); with ``packing``, packed for CPU decode steps (``engines.t3_packing``)."""

    def __init__(self, layer: Any, packing: bool = False) -> None:
        attn, mlp = layer.self_attn, layer.mlp
        self.qkv_linear = FusedLinear(attn.q_proj, attn.k_proj, attn.v_proj)
        self.gate_up = FusedLinear(mlp.gate_proj, mlp.up_proj)
        self.act = mlp.act_fn
        parts = (self.qkv_linear, attn.o_proj, self.gate_up, mlp.down_proj)
        self.linears = [RowsLinear(part, packing) for part in parts]
        self.qkv: Any = self.linears[0]
        self.o: Any = self.linears[1]
        self.mlp: Any = self._mlp

    def _mlp(self, x: Tensor) -> Tensor:
        """Upstream's ``down(act(gate(x)) * up(x))``, with gate and up in one matmul."""
        _, _, gate_up, down = self.linears
        gate, up = gate_up(x).split(self.gate_up.sizes, dim=-1)
        return down(self.act(gate) * up)

    def plain_mlp(self, x: Tensor) -> Tensor:
        """``_mlp`` with plain matmuls (what ``torch.compile`` is given)."""
        _, _, gate_up, down = self.linears
        gate, up = gate_up.plain(x).split(self.gate_up.sizes, dim=-1)
        return down.plain(self.act(gate) * up)

    def current(self) -> bool:
        return self.qkv_linear.current() and self.gate_up.current()


def fused_layers(tfmr: Any) -> list[FusedLlamaLayer]:
    """The fused projections of every layer of ``tfmr`` (an upstream ``LlamaModel``), made once and kept
    on it; made again if the model was moved or cast since."""
    kept: list[FusedLlamaLayer] | None = tfmr.__dict__.get("_fused_layers")
    packing = packs_steps(tfmr)
    if kept is None or not all(layer.current() and layer.linears[0].packing == packing for layer in kept):
        kept = [FusedLlamaLayer(layer, packing) for layer in tfmr.layers]
        tfmr.__dict__["_fused_layers"] = kept
    return kept


def speech_head(t3: Any) -> RowsLinear:
    """T3's speech head for our loop (packed for CPU decode steps after ``pack_steps``), kept on ``t3``."""
    head: RowsLinear | None = t3.__dict__.get("_rows_head")
    packing = packs_steps(t3.tfmr)
    if head is None or head.source is not t3.speech_head or head.packing != packing:
        head = t3.__dict__["_rows_head"] = RowsLinear(t3.speech_head, packing)
    return head


def packed_bytes(t3: Any) -> int:
    """Bytes of T3's weights packed for CPU decode steps so far (copies: ``engines.t3_packing``)."""
    layers: list[FusedLlamaLayer] = getattr(t3, "tfmr", t3).__dict__.get("_fused_layers") or []
    head: RowsLinear | None = t3.__dict__.get("_rows_head")
    linears = [linear for layer in layers for linear in layer.linears] + ([head] if head else [])
    return sum(linear.packed_bytes for linear in linears)
