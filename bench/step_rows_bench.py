"""One T3 decode step's cost by batch rows, plain matmuls vs ``models.cpu_packed_weights``, on the CPU.

Builds a random-weight T3 in memory twice (full size unless ``--layers``: Llama 520M, 30 layers),
the second with its decode steps on weights packed for oneDNN (``engines/t3_packing.py``); for 1, 4
and 8 sequences (cfg 0.5: two rows each, at different positions) prefills them and times
``--steps`` decode steps, the two models taking turns twice (best kept). Prints ms a step and the
ratio of each row count to one sequence's step: what batching can gain per step on this machine.

``--dtype bfloat16``: both models in bf16 (``models.dtype``; on a CPU with AVX-512 BF16 / AMX the
packed matmuls are oneDNN's bf16 kernels).

    uv run --frozen python bench/step_rows_bench.py [--layers 30] [--steps 8] [--threads 2] [--dtype bfloat16]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.random_t3 import build_t3, made_up_request
from engines.t3_loop import Decoder, Sampling
from engines.t3_packing import pack_steps
from engines.t3_sequences import DTYPES, chatterbox_sequence, generator


@torch.inference_mode()
def step_ms(t3: torch.nn.Module, count: int, steps: int) -> float:
    decoder = Decoder(t3, "chatterbox")
    sequences = [
        chatterbox_sequence(
            t3,
            *made_up_request(t3, seed=1 + i, length=40 + 7 * i, emotion=0.5),
            Sampling(),
            generator("cpu", 5 + i),
            steps + 8,
        )
        for i in range(count)
    ]
    state = decoder.start_batch(sequences)
    for _ in range(3):
        decoder.step(state)
    started = time.perf_counter()
    for _ in range(steps):
        decoder.step(state)
    return (time.perf_counter() - started) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=None, help="fewer layers for a smoke run")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = DTYPES[args.dtype]
    plain, packed = build_t3(args.layers, dtype=dtype), build_t3(args.layers, dtype=dtype)
    pack_steps(packed)
    print(
        f"T3: {len(plain.tfmr.layers)} layers, {args.dtype}, {args.threads} threads, {args.steps} steps timed\n"
    )
    print(
        f"{'sequences':>9} {'rows':>5} {'plain ms':>9} {'vs 1':>6} {'packed ms':>10} {'vs 1':>6} {'packed/plain':>13}"
    )
    alone: dict[str, float] = {}
    for count in (1, 4, 8):
        best = {"plain": float("inf"), "packed": float("inf")}
        for _ in range(2):  # turns: a change of load falls on both
            for name, t3 in (("plain", plain), ("packed", packed)):
                best[name] = min(best[name], step_ms(t3, count, args.steps))
        if count == 1:
            alone = dict(best)
        print(
            f"{count:>9} {2 * count:>5} {best['plain']:>9.1f} {best['plain'] / alone['plain']:>5.2f}x "
            f"{best['packed']:>10.1f} {best['packed'] / alone['packed']:>5.2f}x {best['plain'] / best['packed']:>12.2f}x"
        )


if __name__ == "__main__":
    main()
