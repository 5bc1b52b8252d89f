"""A decode step's sampling, one sequence after another vs sequences alike together (``engines/t3_sampling.py``).

For 1, 8 and 16 sequences at the server's defaults (CFG: two rows each; T3's vocabulary of 8194), the
host's time to sample one step's tokens, each way, the two taking turns (best of ``--rounds``), and
the operators each way dispatches a step (``torch.profiler``): on a GPU each is a kernel launch the
host issues while the GPU waits. Both ways draw the same tokens (checked every step).

    uv run --frozen python bench/sampling_bench.py [--device cuda] [--steps 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from torch.profiler import profile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engines.t3_loop import Live, Sampling, Sequence
from engines.t3_sampling import sample_all

VOCAB, START, STOP = 8194, 6561, 6562  # T3's speech vocabulary, start and stop tokens


def lives(count: int, device: str, budget: int) -> list[Live]:
    decoder = SimpleNamespace(style="chatterbox", start=START, stop=STOP)
    return [
        Live(
            decoder,  # type: ignore[arg-type]
            Sequence(
                torch.zeros(2, 3, 4, device=device),
                Sampling(),
                torch.Generator(device).manual_seed(seed),
                budget,
            ),
        )
        for seed in range(count)
    ]


def one_by_one(group: list[Live], logits: torch.Tensor) -> None:
    for row, live in enumerate(group):
        live.sample(logits[2 * row : 2 * row + 2])


def step_ms(way: object, group: list[Live], logits: list[torch.Tensor], device: str) -> float:
    """Mean ms a step over ``logits`` (one tensor a step), synchronized at the end."""
    began = time.perf_counter()
    for step in logits:
        way(group, step)  # type: ignore[operator]
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - began) / len(logits) * 1000


def operators(way: object, group: list[Live], step: torch.Tensor) -> int:
    with profile() as prof:
        way(group, step)  # type: ignore[operator]
    return sum(1 for event in prof.events() if event.name.startswith("aten::") and event.cpu_parent is None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 8, 16])
    args = parser.parse_args()
    torch.set_num_threads(1)  # the server's torch work runs on one thread (engines/compute.py)
    budget = args.rounds * args.steps + 1  # every step each way samples, then the operators' count
    print(f"sampling a step on {args.device}, server defaults with CFG, vocabulary {VOCAB}\n")
    print(f"{'sequences':>9} {'one by one ms':>13} {'together ms':>11} {'operators':>17} {'speed-up':>8}")
    with torch.inference_mode():
        for count in args.counts:
            rng = torch.Generator().manual_seed(count)
            logits = [torch.randn(2 * count, VOCAB, generator=rng).to(args.device) for _ in range(args.steps)]
            alone, together = lives(count, args.device, budget), lives(count, args.device, budget)
            best = {"alone": float("inf"), "together": float("inf")}
            for _ in range(args.rounds):
                best["alone"] = min(best["alone"], step_ms(one_by_one, alone, logits, args.device))
                best["together"] = min(best["together"], step_ms(sample_all, together, logits, args.device))
            same = [live.history.tolist() for live in alone] == [live.history.tolist() for live in together]
            if not same:
                sys.exit(f"{count} sequences: together drew other tokens than one by one")
            ops = f"{operators(one_by_one, alone, logits[0])} -> {operators(sample_all, together, logits[0])}"
            print(
                f"{count:>9} {best['alone']:>13.2f} {best['together']:>11.2f} {ops:>17} "
                f"{best['alone'] / best['together']:>7.2f}x"
            )
    print("\nthe same tokens each way, every step")


if __name__ == "__main__":
    main()
