"""T3's weights packed once for oneDNN, for our loop's decode steps on the CPU (``models.cpu_packed_weights``).

A decode step multiplies a few rows (two per sequence with CFG) by every weight. At one or two rows
``F.linear`` runs a matrix-vector product that streams the weight once; from a few rows on it calls
MKL's ``sgemm``, which repacks the whole weight on every call: on the development CPU the 30 layers'
matmuls took 81 ms at 8 rows against 33 ms at 2 (``docs/performance.md``). oneDNN's linear with the
weight packed once (``torch.ops.mkldnn._reorder_linear_weight``) took 46 ms at 8 rows and 58 at 16,
and about what ``F.linear`` takes at one or two.

The packed weight is a copy (T3's weights twice in memory: about 2 GB more at fp32, made at the first
step and counted in the engine's memory), and its results differ from ``F.linear``'s in the last
bits: a sequence's tokens are then no longer bitwise upstream's (as with ``models.dtype`` or
``models.compile``), hence a setting, off by default. They stay independent of the batch: a packed
matmul gives each row the same result whatever the other rows (``tests/unit/test_t3_packing.py``),
which ``F.linear`` does not quite (its kernels at 1, 2 and 16 rows differ in the last bits).
Only decode steps (one position a row), on the CPU, in inference mode use it: in fp32, or in bf16
with ``models.dtype: bfloat16``, where oneDNN's bf16 kernels (AVX-512 BF16, AMX) take a step of 16
rows in about the time of 2 (``bench/step_rows_bench.py --dtype bfloat16``).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

logger = logging.getLogger(__name__)

_FLAG = "_packed_steps"  # set on T3's transformer by ``pack_steps``


def pack_steps(t3: Any, packing: bool = True) -> None:
    """From the next decoder on, ``t3``'s decode steps in our loop multiply by packed weights (made at
    first use); ``packing=False`` goes back to plain matmuls (the packed copies go with the old decoders)."""
    t3.tfmr.__dict__[_FLAG] = packing


def packs_steps(tfmr: Any) -> bool:
    """Whether ``pack_steps`` was called for the T3 of this transformer."""
    return bool(tfmr.__dict__.get(_FLAG))


class RowsLinear:
    """``F.linear`` by ``source``'s weight and bias (an ``nn.Linear`` or a fused one); with ``packing``,
    packed for oneDNN in CPU decode steps."""

    def __init__(self, source: Any, packing: bool = False) -> None:
        self.source = source
        self.packing = packing
        self._packed: Tensor | None = None
        self._packed_from: tuple[int, torch.dtype] | None = None  # the weight it was packed from
        self._failed = False

    def __call__(self, x: Tensor) -> Tensor:
        weight, bias = self.source.weight, self.source.bias
        if not self.packing or self._failed or not _decode_step(x, weight):
            return F.linear(x, weight, bias)
        packed = self._pack(weight)
        if packed is None:
            return F.linear(x, weight, bias)
        return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")

    def plain(self, x: Tensor) -> Tensor:
        """``F.linear`` alone (what ``torch.compile`` is given)."""
        return F.linear(x, self.source.weight, self.source.bias)

    @property
    def packed_bytes(self) -> int:
        packed = self._packed
        return packed.numel() * packed.element_size() if packed is not None else 0

    def _pack(self, weight: Tensor) -> Tensor | None:
        key = (weight.data_ptr(), weight.dtype)
        if self._packed is None or self._packed_from != key:  # first use, or the model was cast since
            self._packed = None
            try:
                self._packed = torch.ops.mkldnn._reorder_linear_weight(weight.contiguous(), 8)
            except (RuntimeError, AttributeError) as exc:  # a torch without oneDNN's packed linear
                logger.warning("T3 weights not packed for batched steps (%s): plain matmuls", exc)
                self._failed = True
                return None
            self._packed_from = key
        return self._packed


PACKED_DTYPES = (torch.float32, torch.bfloat16)


def _decode_step(x: Tensor, weight: Tensor) -> bool:
    """A CPU decode step (one position a row), fp32 or bf16 (``models.dtype``), in inference mode."""
    return (
        x.dim() == 3
        and x.size(1) == 1
        and x.device.type == "cpu"
        and weight.dtype in PACKED_DTYPES
        and x.dtype == weight.dtype
        and torch.is_inference_mode_enabled()
        and torch.backends.mkldnn.is_available()
    )
