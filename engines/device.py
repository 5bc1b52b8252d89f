"""Choosing the torch device, and torch's use of the CPU."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import torch

from exceptions import EngineUnavailableError

if TYPE_CHECKING:
    from config import ModelSettings

logger = logging.getLogger(__name__)

# models.dtype and models.s3gen_dtype, by name
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(preference: str) -> str:
    """``auto`` picks cuda, then mps, then cpu; an explicit choice the machine lacks cannot run."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if preference == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if preference == "cuda" and not cuda:
        raise EngineUnavailableError("models.device is 'cuda' but torch sees no CUDA device")
    if preference == "mps" and not mps:
        raise EngineUnavailableError("models.device is 'mps' but torch sees no MPS device")
    return preference


def configure_cpu(settings: ModelSettings) -> None:
    """Before a torch model loads: ``models.cpu_kernel_cache`` and ``models.torch_threads``."""
    bound_cpu_kernel_cache(settings.cpu_kernel_cache)
    set_torch_threads(settings.torch_threads)


def set_torch_threads(threads: int) -> None:
    """Threads for one torch operator on the CPU (process-wide); 0 leaves torch's choice (one per core)."""
    if threads > 0 and torch.get_num_threads() != threads:
        logger.info("torch uses %d CPU threads per operator (models.torch_threads)", threads)
        torch.set_num_threads(threads)


def bound_cpu_kernel_cache(entries: int) -> None:
    """Cap oneDNN's cache of compiled CPU kernels (one per layer and input shape) unless the
    environment already does. Its own default, 1024, let the server's memory grow about 2 MB a
    request (every new text length is a new shape) until a thousand shapes were held; oneDNN reads
    the variable when it makes its first kernel, so this works until then (docs/reliability.md)."""
    if not any(
        os.environ.get(name) for name in ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "DNNL_PRIMITIVE_CACHE_CAPACITY")
    ):
        os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = str(entries)


def fast_on_cpu(dtype_name: str) -> bool:
    """Whether this CPU has kernels that make ``dtype_name`` faster than float32: bfloat16 with oneDNN's
    (AVX-512 BF16 or AMX); float16 has none."""
    return dtype_name == "bfloat16" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
