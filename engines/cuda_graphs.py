"""Capturing one CUDA graph, as ``engines.t3_graphs`` and ``engines.s3gen_graphs`` both do."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

logger = logging.getLogger(__name__)


def capture(run: Callable[[], Tensor], pool: Any, what: str) -> tuple[Tensor, Any, Tensor | None]:
    """Run ``run`` once on a side stream (its result is returned first), then capture it in ``pool``.

    Returns ``(result, graph, graph's output)``; ``graph`` and its output are None when something in
    ``run`` cannot be captured (logged, naming ``what``). Only this thread's work is captured
    (``thread_local``): other threads keep using the device meanwhile (T3's scheduler and S3Gen).
    """
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        out = run()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    try:
        with torch.cuda.graph(graph, pool=pool, capture_error_mode="thread_local"):
            graph_out = run()
    except RuntimeError as exc:
        logger.warning("%s not captured as a CUDA graph (%s); running without graphs", what, exc)
        return out, None, None
    return out, graph, graph_out
