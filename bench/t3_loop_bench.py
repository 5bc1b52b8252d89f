"""T3 decoding at batch 1: upstream ``T3.inference`` vs our loop (``engines.t3_loop``) vs the matmul floor.

Builds a full-size random-weight T3 in memory (the real architecture: Llama 520M, 30 layers, 1024
wide; nothing is written to disk), then, in one run and one process:

* ``upstream``: ``T3.inference`` (CFG: two rows), seeded through torch's global RNG;
* ``ours``: ``engines.t3_loop.Decoder`` on the same weights, text, voice, parameters and seed;
* ``floor``: the weight matmuls one step cannot avoid, timed alone on the same two rows: q, k, v, o,
  gate, up, down for every layer, plus the speech head (the issue's floor); ``fused floor``: the same
  weights as our loop multiplies by them, q/k/v and gate/up fused (``engines.t3_fusion``).

With ``--bf16``, ours runs again on a bfloat16 copy of the same weights (``models.dtype: bfloat16``,
reported separately: its tokens are not fp32's, so the line says after how many they part), with
the floor of the bf16 matmuls beside it.

ms/token is ``(time(N tokens) - time(1 token)) / (N - 1)``, best of two runs each: the prefill cancels out;
the best of ``--rounds`` turns, upstream, ours and the floors one after another in each. Both loops must
give the same tokens (checked; random weights never stop, so both run the full budget).
Run from the repository root::

    uv run --frozen python bench/t3_loop_bench.py --tokens 30 --threads 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.random_t3 import build_t3, made_up_request
from engines.t3_fusion import fused_layers
from engines.t3_loop import Decoder, Sampling
from engines.t3_sequences import chatterbox_sequence, generator


def inputs(t3: torch.nn.Module) -> tuple[object, torch.Tensor]:
    return made_up_request(t3, seed=1, length=60, emotion=0.5)


def upstream(t3: torch.nn.Module, tokens: int, sampling: Sampling) -> tuple[float, list[int]]:
    cond, text = inputs(t3)
    torch.manual_seed(5)
    started = time.perf_counter()
    out = t3.inference(
        t3_cond=cond,
        text_tokens=text,
        max_new_tokens=tokens,
        temperature=sampling.temperature,
        cfg_weight=sampling.cfg_weight,
        repetition_penalty=sampling.repetition_penalty,
        min_p=sampling.min_p,
        top_p=sampling.top_p,
    )
    return time.perf_counter() - started, out[0].tolist()


def ours(t3: torch.nn.Module, tokens: int, sampling: Sampling) -> tuple[float, list[int]]:
    cond, text = inputs(t3)
    started = time.perf_counter()
    with torch.inference_mode():
        seq = chatterbox_sequence(t3, cond, text, sampling, generator("cpu", 5), tokens)
        Decoder(t3, "chatterbox").decode([seq])
    return time.perf_counter() - started, seq.tokens


def weights(t3: torch.nn.Module, fused: bool) -> list[torch.Tensor]:
    """The weights one step multiplies by: q, k, v, o, gate, up, down a layer (``fused``: qkv, o,
    gate_up, down, as our loop does, ``engines.t3_fusion``) and the speech head."""
    found = []
    for index, layer in enumerate(t3.tfmr.layers):
        a, m = layer.self_attn, layer.mlp
        if fused:
            parts = fused_layers(t3.tfmr)[index]
            found += [parts.qkv_linear.weight, a.o_proj.weight, parts.gate_up.weight, m.down_proj.weight]
        else:
            found += [a.q_proj.weight, a.k_proj.weight, a.v_proj.weight, a.o_proj.weight]
            found += [m.gate_proj.weight, m.up_proj.weight, m.down_proj.weight]
    return [*found, t3.speech_head.weight]


@torch.inference_mode()
def floor_ms(t3: torch.nn.Module, rows: int, repeats: int, fused: bool = False) -> float:
    """One step's weight matmuls alone, best of ``repeats``, in ms (in the weights' dtype)."""
    timed = weights(t3, fused)
    x = {w.shape[1]: torch.randn(rows, 1, w.shape[1], dtype=w.dtype) for w in timed}
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for w in timed:
            F.linear(x[w.shape[1]], w)
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def per_token(
    run, t3: torch.nn.Module, tokens: int, sampling: Sampling, repeats: int = 2
) -> tuple[float, list[int]]:
    """Best of ``repeats`` for 1 and for N tokens (this machine is shared: the best run is the cleanest)."""
    one = min(run(t3, 1, sampling)[0] for _ in range(repeats))
    runs = [run(t3, tokens, sampling) for _ in range(repeats)]
    full = min(elapsed for elapsed, _ in runs)
    return (full - one) / (tokens - 1) * 1000, runs[0][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=30)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--layers", type=int, default=None, help="fewer layers for a smoke run")
    parser.add_argument("--rounds", type=int, default=2, help="turns of upstream, ours and the floors")
    parser.add_argument("--bf16", action="store_true", help="also ours on bfloat16 weights (reported apart)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    started = time.perf_counter()
    t3 = build_t3(args.layers)
    params = sum(p.numel() for p in t3.parameters()) / 1e6
    print(
        f"T3: {len(t3.tfmr.layers)} layers, {params:.0f}M params, fp32, {args.threads} threads, "
        f"built in {time.perf_counter() - started:.1f} s; {args.tokens} tokens per run"
    )
    half = build_t3(args.layers, dtype=torch.bfloat16) if args.bf16 else None  # the same weights, cast
    for label, sampling in (("cfg 0.5 (2 rows)", Sampling()), ("cfg 0 (1 row)", Sampling(cfg_weight=0.0))):
        ours(t3, 2, sampling)  # warm-up
        rows = 1 if sampling.cfg_weight == 0 else 2
        # the loops and floors take turns, round after round: a shared machine's load falls on all
        up_ms, our_ms, floor, fused_floor, half_ms, half_floor = [], [], [], [], [], []
        if half is not None:
            ours(half, 2, sampling)
        for _ in range(args.rounds):
            ms, up_tokens = per_token(upstream, t3, args.tokens, sampling)
            up_ms.append(ms)
            ms, our_tokens = per_token(ours, t3, args.tokens, sampling)
            our_ms.append(ms)
            floor.append(floor_ms(t3, rows, 3))
            fused_floor.append(floor_ms(t3, rows, 3, fused=True))
            if half is not None:
                ms, half_tokens = per_token(ours, half, args.tokens, sampling)
                half_ms.append(ms)
                half_floor.append(floor_ms(half, rows, 3, fused=True))
        up, our, low, fused_low = min(up_ms), min(our_ms), min(floor), min(fused_floor)
        same = "same tokens" if up_tokens == our_tokens else "TOKENS DIFFER"
        layers = len(t3.tfmr.layers)
        print(f"\n{label}: {same}; best of {args.rounds} rounds")
        print(f"  upstream    {up:7.1f} ms/token  ({up / low:.2f}x floor)")
        print(f"  ours        {our:7.1f} ms/token  ({our / low:.2f}x floor, {up / our:.2f}x faster)")
        print(f"  floor       {low:7.1f} ms/token  (7 matmuls x {layers} layers + head, {rows} rows)")
        print(
            f"  fused floor {fused_low:7.1f} ms/token  (4 matmuls x {layers} layers + head: qkv, o, gate_up, down)"
        )
        if half is not None:
            agree = next(
                (i for i, (a, b) in enumerate(zip(half_tokens, our_tokens, strict=True)) if a != b),
                len(our_tokens),
            )
            print(
                f"  ours bf16   {min(half_ms):7.1f} ms/token  ({our / min(half_ms):.2f}x ours fp32; "
                f"bf16 fused floor {min(half_floor):.1f}: {min(half_ms) / min(half_floor):.2f}x; "
                f"same tokens as fp32 for the first {agree} of {len(our_tokens)})"
            )


if __name__ == "__main__":
    main()
