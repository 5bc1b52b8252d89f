"""Aggregate T3 speech tokens/s: N concurrent requests batched (our scheduler) vs one after another (upstream).

Builds a random-weight T3 in memory (full size by default: the real architecture, Llama 520M, 30
layers, 1024 wide; ``--smoke``: 2 layers, a few tokens, seconds), then in one run and one process,
for each N in ``--requests``:

* ``upstream``: the N requests one after another through upstream ``T3.inference`` (CFG: two rows),
  each seeded through torch's global RNG, as the server runs them with ``models.t3_loop: upstream``;
* ``batched``: the same N requests submitted at once to ``engines.t3_scheduler.T3Scheduler``
  (continuous batching, ``models.t3_loop: own``), each with its own voice, text, seed and generator.

Each request decodes ``--tokens`` speech tokens (random weights never stop, so every request runs
its full budget and the token counts are exact); the time includes each request's prefill. At fp32
the batched tokens must equal upstream's for every request (checked and printed). ``--batch1`` adds
one request alone through both loops (the loop's own gain at batch 1), the two taking turns
``--rounds`` times (best of each kept). ``T3 RTF``: seconds of T3
decoding per second of speech tokens (25 per second) for each request of the batched run;
``MB/request``: the batched run's peak device memory above the weights, per request (CUDA only).
``--dtype`` / ``--compile`` as the server's ``models.dtype`` / ``models.compile`` (bench/gpu_bench.sh
runs the matrix). ``--packed`` (CPU): each count is batched once more with ``models.cpu_packed_weights``
(the same weights, packed for oneDNN), printed beside: its tokens/s, its ratio to the plain batched
run, and whether its tokens equal the plain run's (they need not: the last bits differ). ``--bf16``
(CPU, with an fp32 run): each count is batched once more by a bfloat16 copy of T3 with packed weights
(``models.dtype: bfloat16`` + ``models.cpu_packed_weights``: oneDNN's bf16 kernels, AMX where the CPU
has it), printed beside: its tokens/s, its ratio to upstream's fp32 run, and for how many requests its
tokens equal the fp32 run's (not bitwise upstream's: another precision).

    uv run --frozen python bench/batch_bench.py --requests 8 16 --tokens 30 --threads 2
    uv run --frozen python bench/batch_bench.py --requests 8 --tokens 100 --packed --bf16
    uv run --frozen python bench/batch_bench.py --smoke
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # before torch: upstream draws a progress bar per request

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.random_t3 import build_t3, request
from engines.compute import Runner, in_caller, runner
from engines.t3_loop import Decoder, Sampling, Sequence
from engines.t3_scheduler import T3Scheduler
from engines.t3_sequences import DTYPES, chatterbox_sequence, generator

SAMPLING = Sampling()  # the server's defaults: cfg 0.5 (two rows), temperature 0.8, min_p 0.05
# Where the torch work runs, as in the server (engines.compute): on a CPU, one thread for all of it.
# torch's OpenMP pools on two threads (this one's and the scheduler's) throttled every kernel.
RUN: Runner = in_caller


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


@torch.inference_mode()
def upstream(t3: torch.nn.Module, count: int, tokens: int) -> tuple[float, list[list[int]]]:
    """The requests one after another through ``T3.inference``: seconds, each one's tokens."""
    device, results = str(t3.device.type), []
    sync(device)
    started = time.perf_counter()
    for index in range(count):
        cond, text = request(t3, index)
        torch.manual_seed(1000 + index)
        out = t3.inference(
            t3_cond=cond,
            text_tokens=text,
            max_new_tokens=tokens,
            temperature=SAMPLING.temperature,
            cfg_weight=SAMPLING.cfg_weight,
            repetition_penalty=SAMPLING.repetition_penalty,
            min_p=SAMPLING.min_p,
            top_p=SAMPLING.top_p,
        )
        results.append(out[0].tolist())
    sync(device)
    return time.perf_counter() - started, results


@torch.inference_mode()
def _sequences(t3: torch.nn.Module, count: int, tokens: int) -> list[Sequence]:
    return [
        chatterbox_sequence(t3, *request(t3, index), SAMPLING, generator(t3.device, 1000 + index), tokens)
        for index in range(count)
    ]


def batched(
    t3: torch.nn.Module, count: int, tokens: int, graphs: bool = False, scheduler: T3Scheduler | None = None
) -> tuple[float, list[list[int]], int]:
    """The requests submitted at once to the scheduler: seconds, each one's tokens, the largest batch.

    ``scheduler``: one kept between runs, as a server keeps its model's (with CUDA graphs: the graphs
    and their cache); else one made for this run (its graphs captured during it) and closed after.
    """
    device = str(t3.device.type)
    own = scheduler is None
    if scheduler is None:
        decoder = RUN(lambda: Decoder(t3, "chatterbox", cuda_graphs=graphs))  # it fuses weights: torch work
        scheduler = T3Scheduler(decoder, max_batch=count, name="bench", run=RUN)
    try:
        sync(device)
        started = time.perf_counter()
        sequences = RUN(_sequences, t3, count, tokens)
        tickets = [scheduler.submit(sequence) for sequence in sequences]
        largest = 0
        while not all(ticket._finished.is_set() for ticket in tickets):
            largest = max(largest, scheduler.active)
            time.sleep(0.001)
        results = [ticket.wait().tokens for ticket in tickets]
        sync(device)
        return time.perf_counter() - started, results, largest
    finally:
        if own:
            scheduler.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--tokens", type=int, default=30, help="speech tokens per request")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--compile", choices=["off", "on"], default="off", help="torch.compile T3's layers")
    parser.add_argument("--layers", type=int, default=None, help="fewer layers (width stays 1024)")
    parser.add_argument(
        "--graphs", choices=["off", "on"], default="off", help="CUDA graphs (models.cuda_graphs)"
    )
    parser.add_argument("--batch1", action="store_true", help="also one request alone through both loops")
    parser.add_argument(
        "--upstream-max", type=int, default=None, help="run upstream only for this many requests or fewer"
    )
    parser.add_argument("--rounds", type=int, default=3, help="turns each loop takes at batch 1 (best kept)")
    parser.add_argument("--smoke", action="store_true", help="2 layers, 6 tokens, 2 and 3 requests: seconds")
    parser.add_argument(
        "--packed", action="store_true", help="also batched with models.cpu_packed_weights (CPU)"
    )
    parser.add_argument(
        "--bf16", action="store_true", help="also batched by a bf16 copy of T3 with packed weights (CPU)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.layers, args.tokens, args.requests, args.rounds = 2, 6, [2, 3], 1
    torch.set_num_threads(args.threads)

    started = time.perf_counter()
    global RUN
    RUN = runner(args.device)
    t3 = RUN(build_t3, args.layers, args.device, DTYPES[args.dtype])
    weights_mb = _allocated_mb(args.device)
    if args.compile == "on":
        from engines.t3_backbone import compile_layers

        RUN(compile_layers, t3)
    params = sum(p.numel() for p in t3.parameters()) / 1e6
    print(
        f"T3: {len(t3.tfmr.layers)} layers, {params:.0f}M params, {args.dtype} on {args.device}, "
        f"compile {args.compile}, graphs {args.graphs}, {args.threads} threads, built in {time.perf_counter() - started:.1f} s; "
        f"{args.tokens} speech tokens per request, cfg {SAMPLING.cfg_weight}"
    )
    graphs = args.graphs == "on"
    bf16 = RUN(_bf16_copy, t3) if args.bf16 else None
    batched(t3, 1, 2, graphs)  # warm-up (first calls allocate; with compile: compile)
    counts = ([1] if args.batch1 else []) + args.requests
    # With graphs, one scheduler for the whole run, as the server keeps one per model: each count is run
    # once untimed first (its batch sizes captured, the cache grown to the run's length), then timed.
    kept = None
    if graphs:
        kept = T3Scheduler(
            RUN(lambda: Decoder(t3, "chatterbox", cuda_graphs=True)), max(counts), "bench", RUN
        )
    print(
        f"\n{'requests':>8} {'upstream tok/s':>15} {'batched tok/s':>14} {'ratio':>7} {'batch':>6} "
        f"{'T3 RTF':>7} {'MB/request':>10}  tokens"
        + ("  (first run, graphs captured in it)" if graphs else "")
    )
    for count in counts:
        total = count * args.tokens
        cold = ""
        if kept is not None:
            cold_seconds = batched(t3, count, args.tokens, graphs, kept)[0]
            cold = f"  ({total / cold_seconds:.2f} tok/s)"
        # One request alone is short, and load from other jobs moves it: both loops take turns
        # (``--rounds`` each, the best kept), so a change of load cannot favour the one that ran last.
        up_seconds = our_seconds = float("inf")
        up_tokens: list[list[int]] = []
        for _ in range(args.rounds if count == 1 else 1):
            try:
                if args.upstream_max is None or count <= args.upstream_max:
                    seconds, up_tokens = RUN(upstream, t3, count, args.tokens)
                    up_seconds = min(up_seconds, seconds)
            except (RuntimeError, TypeError, ValueError) as exc:  # upstream in bf16/fp16 may not run
                print(f"  upstream failed: {type(exc).__name__}: {str(exc)[:120]}")
            _reset_peak(args.device)
            seconds, our_tokens, largest = batched(t3, count, args.tokens, graphs, kept)
            our_seconds = min(our_seconds, seconds)
        up_rate = total / up_seconds if up_tokens else float("nan")
        our_rate = total / our_seconds
        per_request = (_peak_mb(args.device) - weights_mb) / count
        rtf = count * 25 / our_rate  # each request's seconds to make one second of speech tokens (25/s)
        same = "same as upstream" if up_tokens == our_tokens else "differ from upstream"
        same = same if up_tokens else "upstream not run"
        packed = _packed_run(t3, count, args.tokens, our_rate, our_tokens) if args.packed else ""
        if bf16 is not None:
            packed += _bf16_run(bf16, count, args.tokens, up_rate, our_tokens)
        print(
            f"{count:>8} {up_rate:>15.2f} {our_rate:>14.2f} {our_rate / up_rate:>6.2f}x {largest:>6} "
            f"{rtf:>7.3f} {per_request:>10.1f}  {same}{cold}{packed}"
        )
    if kept is not None:
        kept.close()
    print(f"\nload average: {' '.join(f'{x:.1f}' for x in _loadavg())} (a shared machine: read the ratios)")


def _packed_run(
    t3: torch.nn.Module, count: int, tokens: int, plain_rate: float, plain: list[list[int]]
) -> str:
    """The same requests batched with ``models.cpu_packed_weights``: a line's tail comparing it with plain."""
    from engines.t3_packing import pack_steps

    pack_steps(t3)
    try:
        batched(t3, 1, 2)  # the first step packs the weights: not timed
        seconds, tokens_out, _ = batched(t3, count, tokens)
    finally:
        pack_steps(t3, False)
    rate = count * tokens / seconds
    agree = "same tokens as plain" if tokens_out == plain else "tokens differ from plain"
    return f"; packed {rate:.2f} tok/s, {rate / plain_rate:.2f}x plain, {agree}"


def _bf16_copy(t3: torch.nn.Module) -> torch.nn.Module:
    """A bfloat16 copy of ``t3`` whose decode steps multiply by packed weights (made by a first run)."""
    import copy

    from engines.t3_packing import pack_steps

    if t3.device.type != "cpu" or next(t3.parameters()).dtype != torch.float32:
        raise SystemExit("--bf16 compares a bf16 copy with the fp32 run on a CPU: leave --dtype and --device")
    twin = copy.deepcopy(t3).to(torch.bfloat16)
    pack_steps(twin)
    return twin


def _bf16_run(
    twin: torch.nn.Module, count: int, tokens: int, upstream_rate: float, fp32: list[list[int]]
) -> str:
    """The same requests batched by the bf16 copy: a line's tail comparing it with upstream's fp32 run."""
    batched(twin, 1, 2)  # the first step packs the weights: not timed
    seconds, tokens_out, _ = batched(twin, count, tokens)
    rate = count * tokens / seconds
    same = sum(a == b for a, b in zip(tokens_out, fp32, strict=True))
    return (
        f"; bf16 packed {rate:.2f} tok/s, {rate / upstream_rate:.2f}x upstream fp32, {same}/{count} as fp32"
    )


def _allocated_mb(device: str) -> float:
    return torch.cuda.memory_allocated() / 2**20 if device == "cuda" else 0.0


def _reset_peak(device: str) -> None:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def _peak_mb(device: str) -> float:
    """Peak device memory of the last batched run (CUDA only; 0 on CPU, where it is not tracked)."""
    return torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else 0.0


def _loadavg() -> tuple[float, ...]:
    try:
        return os.getloadavg()
    except OSError:
        return ()


if __name__ == "__main__":
    main()
