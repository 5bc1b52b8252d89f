"""T3's decode step replayed from a CUDA graph (``models.cuda_graphs``), one graph per batch size.

On a GPU one decode step of T3 is ~1,200 small kernels (30 layers of norms, projections, rotary,
attention, MLP): a profile on an H200 measured 4 ms of GPU work per token behind 25 ms of kernel
launches, so both upstream's loop and ours wait on the CPU. A CUDA graph launches the whole step at
once. It needs fixed shapes and addresses: the step attends over the cache's whole length (rows
masked past their position) instead of the positions used so far, and reads its token embeddings
and positions from buffers that each call fills. A graph is captured the first time a batch size
meets a cache (its output is that step's), then replayed. The graphs point into one cache, so the
cache outlives batches: ``cache_for`` hands out the same one while it is large enough (rounded up:
rows to a power of two, positions to ``LENGTH_STEP``) and only a larger one drops the graphs; an
idle model keeps it (the price of not capturing again at every request). Steps that tap attention
(the multilingual analyzer) run eagerly, as without graphs.

``capture=False`` runs the same fixed-shape step eagerly: the CPU tests use it to check it against
the ordinary step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from engines.cuda_graphs import capture
from engines.t3_backbone import device_positions

if TYPE_CHECKING:
    from engines.t3_backbone import Backbone, KVCache

LENGTH_STEP = 256  # cache positions are allocated in multiples of this (each growth drops the graphs)


class _Graph:
    def __init__(self, embeds: Tensor, positions: Tensor) -> None:
        self.embeds, self.positions = embeds, positions
        self.graph: Any = None
        self.out: Tensor | None = None


class StepGraphs:
    """``step`` as ``Backbone.step`` (no taps), from CUDA graphs keyed by batch rows, for one cache."""

    def __init__(self, backbone: Backbone, capture: bool = True) -> None:
        self.backbone = backbone
        self.capture = capture
        self._cache: KVCache | None = None
        self._graphs: dict[int, _Graph] = {}
        self._pool: Any = None
        self.captured = 0  # graphs captured so far (for tests and logs)

    def cache_for(self, rows: int, length: int, like: Tensor) -> KVCache:
        """The cache the graphs use, replaced by a larger one only when it lacks rows or positions.

        Its contents are stale between batches; that is harmless, as a row attends only to positions
        it has written (prefill writes ``0..T-1``, each step its own position; the rest is masked).
        """
        held = self._cache
        if (
            held is not None
            and rows <= held.keys.size(1)
            and length <= held.length
            and held.keys.dtype == like.dtype
            and held.keys.device == like.device
        ):
            return held
        rows = max(rows, held.keys.size(1) if held is not None else 0)
        length = max(length, held.length if held is not None else 0)
        rows = 1 << (rows - 1).bit_length()
        length = -(-length // LENGTH_STEP) * LENGTH_STEP
        self._cache = None  # the old one's memory can go before the new one is allocated
        self._graphs.clear()
        self._cache = self.backbone.allocate(rows, length, like)
        return self._cache

    def release(self) -> None:
        """Drop the cache and the graphs (the model is unloaded)."""
        self._graphs.clear()
        self._cache = None
        self._pool = None

    def step(self, embeds: Tensor, positions: list[int], cache: KVCache) -> Tensor:
        if cache is not self._cache:  # not ours (a caller's own cache): the graphs point into ours
            self._graphs.clear()
            self._cache = cache
        rows = embeds.size(0)
        where = device_positions(positions, embeds.device)
        entry = self._graphs.get(rows)
        if entry is None or not self.capture:
            entry = _Graph(embeds.clone(), where)
            out = self._first(entry, cache) if self.capture else self._static(entry, cache)
            if self.capture:
                self._graphs[rows] = entry
            return out
        entry.embeds.copy_(embeds)
        entry.positions.copy_(where)
        entry.graph.replay()
        assert entry.out is not None
        return entry.out.clone()  # the next replay overwrites the graph's output

    def _static(self, entry: _Graph, cache: KVCache) -> Tensor:
        """The step over the whole cache length: fixed shapes, the same result as ``Backbone.step``."""
        from engines.t3_backbone import Step

        length = cache.length
        span = torch.arange(length, device=entry.embeds.device).unsqueeze(0)
        mask = (span <= entry.positions)[:, None, None, :]
        rows = slice(0, entry.embeds.size(0))
        return self.backbone._run(entry.embeds, entry.positions, cache, rows, Step(length, mask), {})

    def _first(self, entry: _Graph, cache: KVCache) -> Tensor:
        """Run the step once (its result is this step's), then capture it; the ordinary step if it cannot be."""
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        # The first run writes this step's keys and values: the capture's run writes the same.
        out, entry.graph, entry.out = capture(lambda: self._static(entry, cache), self._pool, "T3 step")
        if entry.graph is None:
            self.backbone.graphs = None
            self._graphs.clear()
            return out
        self.captured += 1
        return out
