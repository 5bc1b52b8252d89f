"""S3Gen's flow-matching estimator replayed from CUDA graphs (``models.cuda_graphs``), by length bucket.

On a GPU one S3Gen call is launch-bound: a profile on an H200 counted ~16,500 kernel launches and
576 ms of CPU per call for 164 ms of GPU work, whatever the number of tokens. Most of them are the
estimator (a 1-D U-Net with transformer blocks), which the flow-matching solver runs once per Euler
step (10 steps, CFG as two rows). Here each estimator call's inputs are padded to a multiple of
``BUCKET`` mel frames, copied into a graph's buffers and the graph replayed. The padding cannot
change the frames asked for: every convolution is causal (a frame sees only frames before it), the
attention masks padded keys, and the rest works frame by frame; only rounding differs, as sums run
over more (zero-weighted) terms. The first call of a bucket runs eagerly (its result is returned),
then is captured; at most ``MAX_GRAPHS`` buckets keep a graph (the least recently used goes), and a
call that cannot be captured runs eagerly from then on.

Upstream's estimator checks each attention mask for all-false rows with a host sync
(``add_optional_chunk_mask``: ``.item()``), which a graph cannot hold; ``install`` swaps in the same
fix-up done on the device.

``capture=False`` runs the same padded call eagerly: the CPU tests use it to check it against the
estimator itself.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

import torch
from torch import Tensor

from engines.cuda_graphs import capture

BUCKET = 64  # mel frames (32 speech tokens): inputs are padded to a multiple of this
MAX_GRAPHS = 16  # buckets that keep a graph at once
_NAMES = ("x", "mask", "mu", "t", "spks", "cond", "r")


class _Graph:
    """One bucket's input buffers (zero past the frames each call fills), output and graph."""

    def __init__(self, inputs: dict[str, Tensor | None], frames: int) -> None:
        self.inputs: dict[str, Tensor | None] = {}
        for name, value in inputs.items():
            if value is None:
                self.inputs[name] = None
            elif value.dim() == 3:  # (rows, channels, frames): padded
                self.inputs[name] = value.new_zeros((*value.shape[:2], frames))
            else:
                self.inputs[name] = torch.empty_like(value)
        self.graph: Any = None
        self.out: Tensor | None = None

    def fill(self, inputs: dict[str, Tensor | None]) -> None:
        for name, value in inputs.items():
            buffer = self.inputs[name]
            if value is None or buffer is None:
                continue
            if value.dim() == 3:
                frames = value.size(-1)
                buffer[..., :frames].copy_(value)
                buffer[..., frames:].zero_()
            else:
                buffer.copy_(value)


class GraphedEstimator(torch.nn.Module):
    """Stands in for ``CausalConditionalCFM.estimator``: the same ``forward``, from graphs."""

    def __init__(self, inner: torch.nn.Module, capture: bool = True) -> None:
        super().__init__()
        self.inner = inner
        self.capture = capture
        self._graphs: collections.OrderedDict[tuple[Any, ...], _Graph] = collections.OrderedDict()
        self._pool: Any = None
        self._lock = threading.Lock()  # one set of buffers per bucket: one call at a time
        self.captured = 0  # graphs captured so far (for tests and logs)

    @property
    def dtype(self) -> torch.dtype:
        dtype: torch.dtype = getattr(self.inner, "dtype")  # noqa: B009  ConditionalDecoder's property
        return dtype

    def forward(
        self,
        x: Tensor,
        mask: Tensor,
        mu: Tensor,
        t: Tensor,
        spks: Tensor | None = None,
        cond: Tensor | None = None,
        r: Tensor | None = None,
    ) -> Tensor:
        inputs = dict(zip(_NAMES, (x, mask, mu, t, spks, cond, r), strict=True))
        frames = x.size(-1)
        padded = -(-frames // BUCKET) * BUCKET
        key = (tuple(x.shape[:2]), padded, x.dtype, x.device, tuple(v is None for v in inputs.values()))
        with self._lock:
            entry = self._graphs.get(key) if self.capture else None
            if entry is None:
                entry = _Graph(inputs, padded)
                entry.fill(inputs)
                if not self.capture:
                    return self._run(entry)[..., :frames].clone()
                out = self._first(entry, key)
                return out[..., :frames].clone()
            entry.fill(inputs)
            self._graphs.move_to_end(key)
            entry.graph.replay()
            assert entry.out is not None
            return entry.out[..., :frames].clone()  # the next replay overwrites the graph's output

    def _run(self, entry: _Graph) -> Tensor:
        out: Tensor = self.inner.forward(**entry.inputs)
        return out

    def _first(self, entry: _Graph, key: tuple[Any, ...]) -> Tensor:
        """Run once (the result), then capture the same call for this bucket; eager from now on if it cannot be."""
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        out, entry.graph, entry.out = capture(lambda: self._run(entry), self._pool, "S3Gen estimator")
        if entry.graph is None:
            self.capture = False
            self._graphs.clear()
            return out
        self._graphs[key] = entry
        self.captured += 1
        while len(self._graphs) > MAX_GRAPHS:
            self._graphs.popitem(last=False)
        return out


def install(s3gen: Any, capture: bool = True) -> GraphedEstimator:
    """Put a ``GraphedEstimator`` in ``s3gen``'s flow matching (once); it is returned."""
    cfm = s3gen.flow.decoder
    if isinstance(cfm.estimator, GraphedEstimator):
        return cfm.estimator
    _mask_check_on_device()
    cfm.estimator = GraphedEstimator(cfm.estimator, capture=capture)
    return cfm.estimator


def _mask_check_on_device() -> None:
    """Upstream's mask fix-up (all-false rows set true) without reading the mask on the host."""
    from chatterbox.models.s3gen import decoder

    original = decoder.add_optional_chunk_mask
    if getattr(original, "on_device", False):
        return

    def add_optional_chunk_mask(
        xs: Tensor,
        masks: Tensor,
        use_dynamic_chunk: bool,
        use_dynamic_left_chunk: bool,
        decoding_chunk_size: int,
        static_chunk_size: int,
        num_decoding_left_chunks: int,
        enable_full_context: bool = True,
    ) -> Tensor:
        if use_dynamic_chunk or static_chunk_size > 0:  # chunked masks: upstream's code as it is
            return original(
                xs,
                masks,
                use_dynamic_chunk,
                use_dynamic_left_chunk,
                decoding_chunk_size,
                static_chunk_size,
                num_decoding_left_chunks,
                enable_full_context,
            )
        return masks | (masks.sum(dim=-1, keepdim=True) == 0)

    add_optional_chunk_mask.on_device = True  # type: ignore[attr-defined]
    decoder.add_optional_chunk_mask = add_optional_chunk_mask
