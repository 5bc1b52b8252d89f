"""What this CPU can do for T3's and S3Gen's work: the limits the CPU goals of docs/performance.md meet.

On ``--threads`` threads, prints:

- **memory bandwidth**: a sum over a ``--gib`` GiB tensor (streaming T3's weights once a step can go
  no faster);
- **fp32 peak**: GFLOP/s of a square matmul (``--matmul``);
- **T3's projection matmuls** (fused q/k/v, o, fused gate/up, down; ``--layers`` layers of distinct
  weights, 2 GB at 30, so none stay in a cache) at 2 rows (one sequence with CFG) and 16 (eight), by
  ``F.linear`` (MKL's sgemm; upstream's), oneDNN on weights packed once (``models.cpu_packed_weights``),
  MKL on weights packed once, and oneDNN packed in bf16 (``models.dtype: bfloat16``): ms, weight GB/s,
  GFLOP/s, and the bound ``max(bytes / bandwidth, flops / peak)`` no kernel can beat (bf16: its bytes
  alone);
- **a decode step's attention** (SDPA, one query a row over ``--span`` cached keys, 16 heads of 64, a
  cache per layer) at 2 and 16 rows: its cache bytes read and GB/s;
- **S3Gen's estimator attention** (CFG's 2 rows, 8 heads of 64, ``--frames`` mel frames, a padding
  mask as upstream gives it): SDPA's flash kernel against the math path (scores, softmax, values).

    uv run --frozen python bench/cpu_limits_bench.py [--threads 2] [--smoke]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

# T3's decode-step matmuls a layer (out, in): fused q/k/v, o, fused gate/up, down (Llama 520M).
PROJECTIONS = [(3072, 1024), (1024, 1024), (8192, 1024), (1024, 4096)]
HEADS, HEAD_DIM = 16, 64  # T3's attention
S3GEN_HEADS = 8  # S3Gen's estimator: 8 heads of 64 over 256 channels


def best_ms(fn: Callable[[], Any], repeat: int) -> float:
    """The fastest of ``repeat`` calls after one untimed, in ms."""
    fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times) * 1000


def bandwidth_gbs(gib: float, repeat: int) -> float:
    values = torch.ones(int(gib * 2**30) // 4)
    return values.numel() * 4 / best_ms(values.sum, repeat) / 1e6


def peak_gflops(size: int, repeat: int) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / best_ms(lambda: a @ b, repeat) / 1e6


# A kernel: (prepare a weight for ``rows``, multiply rows by it given the weight and what was prepared)
Kernel = tuple[Callable[[Tensor, int], Any], Callable[[Tensor, Tensor, Any], Tensor]]


def _kernels() -> dict[str, Kernel]:
    """Each kernel by name; bf16 ones have "bf16" in their name."""
    kernels: dict[str, Kernel] = {
        "F.linear (MKL sgemm)": (lambda w, rows: None, lambda x, w, p: F.linear(x, w)),
        "oneDNN packed": (
            torch.ops.mkldnn._reorder_linear_weight,
            lambda x, w, p: torch.ops.mkldnn._linear_pointwise(x, p, None, "none", [], ""),
        ),
    }
    if torch.backends.mkl.is_available():
        kernels["MKL packed"] = (
            torch.ops.mkl._mkl_reorder_linear_weight,
            lambda x, w, p: torch.ops.mkl._mkl_linear(x, p, w, None, x.size(0)),
        )
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        kernels["oneDNN packed bf16"] = (
            lambda w, rows: torch.ops.mkldnn._reorder_linear_weight(w.bfloat16(), rows),
            lambda x, w, p: torch.ops.mkldnn._linear_pointwise(x.bfloat16(), p, None, "none", [], ""),
        )
    return kernels


def _every_layer(multiply: Any, inputs: dict[int, Tensor], weights: list[Any], prepared: list[Any]) -> None:
    for layer, packed in zip(weights, prepared, strict=True):
        for weight, ready in zip(layer, packed, strict=True):
            multiply(inputs[weight.size(1)], weight, ready)


def _attend_every_layer(query: Tensor, caches: list[tuple[Tensor, Tensor]]) -> None:
    for keys, values in caches:
        F.scaled_dot_product_attention(query, keys, values)


def projections(layers: int, bandwidth: float, peak: float, repeat: int) -> None:
    torch.manual_seed(0)
    weights = [[torch.randn(out, into) * 0.02 for out, into in PROJECTIONS] for _ in range(layers)]
    count = sum(w.numel() for layer in weights for w in layer)
    print(f"\nT3's projections: {layers} layers, {count / 1e6:.0f}M weights ({count * 4 / 1e9:.2f} GB fp32)")
    print(
        f"{'kernel':22} {'rows':>4} {'ms':>8} {'weight GB/s':>11} {'GFLOP/s':>8} {'bound ms':>8} {'vs bound':>8}"
    )
    for name, (prepare, multiply) in _kernels().items():
        for rows in (2, 16):
            inputs = {into: torch.randn(rows, into) for _, into in PROJECTIONS}
            prepared = [[prepare(w, rows) for w in layer] for layer in weights]
            bf16 = "bf16" in name
            bytes_ = count * (2 if bf16 else 4)
            with torch.inference_mode():
                ms = best_ms(partial(_every_layer, multiply, inputs, weights, prepared), repeat)
            flops = 2 * rows * count
            bound = bytes_ / bandwidth / 1e6  # bf16: AMX's peak is far above what its bytes allow
            if not bf16:
                bound = max(bound, flops / peak / 1e6)
            print(
                f"{name:22} {rows:>4} {ms:8.1f} {bytes_ / ms / 1e6:11.1f} {flops / ms / 1e6:8.0f} "
                f"{bound:8.1f} {ms / bound:7.2f}x"
            )
            del prepared


def decode_attention(layers: int, span: int, repeat: int) -> None:
    print(
        f"\nA decode step's attention: {layers} layers, {span} cached positions a row, {HEADS} heads of {HEAD_DIM}"
    )
    print(f"{'rows':>4} {'ms':>8} {'cache MB read':>13} {'GB/s':>6}")
    for rows in (2, 16):
        caches = [
            (torch.randn(rows, HEADS, span, HEAD_DIM), torch.randn(rows, HEADS, span, HEAD_DIM))
            for _ in range(layers)
        ]
        query = torch.randn(rows, HEADS, 1, HEAD_DIM)
        ms = best_ms(partial(_attend_every_layer, query, caches), repeat)
        read = 2 * layers * rows * HEADS * span * HEAD_DIM * 4
        print(f"{rows:>4} {ms:8.1f} {read / 1e6:13.0f} {read / ms / 1e6:6.1f}")


def estimator_attention(frames: int, repeat: int) -> None:
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, S3GEN_HEADS, frames, HEAD_DIM) for _ in range(3))
    bias = torch.zeros(2, 1, frames, frames)
    bias[1, :, :, frames - frames // 10 :] = -1.0e10  # a padded row, as mask_to_bias gives it
    flops = 4 * 2 * S3GEN_HEADS * frames * frames * HEAD_DIM
    print(
        f"\nS3Gen's estimator attention: 2 rows, {S3GEN_HEADS} heads of {HEAD_DIM}, {frames} frames (one block)"
    )
    print(f"{'path':22} {'ms':>8} {'GFLOP/s':>8}")
    backends = {"SDPA (flash, CPU)": None, "math (scores, softmax)": torch.nn.attention.SDPBackend.MATH}
    for name, backend in backends.items():

        def run(backend: Any = backend) -> None:
            if backend is None:
                F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
                return
            with torch.nn.attention.sdpa_kernel(backend):
                F.scaled_dot_product_attention(q, k, v, attn_mask=bias)

        ms = best_ms(run, repeat)
        print(f"{name:22} {ms:8.1f} {flops / ms / 1e6:8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--layers", type=int, default=30, help="T3 layers of distinct weights and caches")
    parser.add_argument("--gib", type=float, default=2.0, help="GiB summed for the memory bandwidth")
    parser.add_argument("--matmul", type=int, default=2048, help="the square matmul for the fp32 peak")
    parser.add_argument("--span", type=int, default=140, help="cached positions a row in the decode step")
    parser.add_argument("--frames", type=int, default=900, help="mel frames in S3Gen's attention")
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.layers, args.gib, args.matmul, args.span, args.frames, args.repeat = 1, 0.0625, 256, 16, 64, 1
    torch.set_num_threads(args.threads)
    bandwidth = bandwidth_gbs(args.gib, args.repeat)
    peak = peak_gflops(args.matmul, args.repeat)
    print(
        f"{args.threads} threads: memory bandwidth {bandwidth:.1f} GB/s, fp32 matmul peak {peak:.0f} GFLOP/s"
    )
    projections(args.layers, bandwidth, peak, args.repeat)
    decode_attention(args.layers, args.span, args.repeat)
    estimator_attention(args.frames, args.repeat)


if __name__ == "__main__":
    main()
