"""S3Gen as the settings ask: its estimator at a lower precision (``models.s3gen_dtype``), from CUDA graphs.

Most of an S3Gen call is its flow-matching estimator (a 1-D U-Net with 56 transformer blocks), which
the solver runs once per Euler step (10 steps, CFG as two rows). ``models.s3gen_dtype`` runs it
under ``torch.autocast``: its matmuls, convolutions and attention at bfloat16 or float16, while its
weights, its norms and time embedding and the solver's state (the mel being made, over the 10 steps)
stay float32. On a CPU with AMX its flow stage then takes ~0.43x the time (docs/performance.md).
Upstream's own way, the estimator's weights cast (the solver then casts its state to match), measured
~7x the difference to float32 output and was no faster, so it is not used.

``models.cuda_graphs`` on a GPU then replays the (lowered) estimator from graphs
(``engines.s3gen_graphs``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from engines.device import DTYPES, fast_on_cpu
from engines.s3gen_graphs import install

if TYPE_CHECKING:
    from config import ModelSettings

logger = logging.getLogger(__name__)


class AutocastEstimator(torch.nn.Module):
    """Stands in for ``CausalConditionalCFM.estimator``: the same ``forward``, under autocast."""

    def __init__(self, inner: torch.nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.inner = inner
        self.lowered = dtype
        self.device_type = next(inner.parameters()).device.type

    @property
    def dtype(self) -> torch.dtype:
        """What the solver casts its inputs and state to: float32, as the weights (not the lowered type)."""
        return torch.float32

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        # cache_enabled=False: no cached casts of the weights outlive a call (nor a CUDA graph's capture)
        with torch.autocast(self.device_type, dtype=self.lowered, cache_enabled=False):
            out: Tensor = self.inner(*args, **kwargs)
        return out.float()


def lower_estimator(s3gen: Any, dtype_name: str, name: str) -> AutocastEstimator | None:
    """``models.s3gen_dtype`` for one S3Gen (once); the wrapper, or None at float32."""
    cfm = s3gen.flow.decoder
    if dtype_name == "float32" or isinstance(cfm.estimator, AutocastEstimator):
        return None
    cfm.estimator = AutocastEstimator(cfm.estimator, DTYPES[dtype_name])
    if cfm.estimator.device_type == "cpu" and not fast_on_cpu(dtype_name):
        logger.warning(
            "%s: models.s3gen_dtype %s on this CPU has no fast kernels (bfloat16 needs AVX-512 BF16 or AMX): "
            "S3Gen may run slower than at float32",
            name,
            dtype_name,
        )
    logger.info("%s: S3Gen's estimator runs under autocast at %s (models.s3gen_dtype)", name, dtype_name)
    return cfm.estimator


def prepare_s3gen(s3gen: Any, settings: ModelSettings, name: str) -> None:
    """``models.s3gen_dtype``, then ``models.cuda_graphs`` when S3Gen runs on a GPU."""
    lower_estimator(s3gen, settings.s3gen_dtype, name)
    if settings.cuda_graphs and next(s3gen.parameters()).is_cuda:
        install(s3gen)
        logger.info("%s: S3Gen's estimator runs from CUDA graphs (models.cuda_graphs)", name)
