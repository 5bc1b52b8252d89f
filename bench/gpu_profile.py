"""Where the time goes on a GPU: torch.profiler over our T3 loop, upstream's loop and S3Gen (batch 1).

For each part, after a warm-up: the wall time, then the top operators by self CPU time and by self
device time. Our loop is timed alone (``Decoder.decode``, this thread) and through the scheduler
(its own thread), to separate the scheduler's overhead from the loop's. Random weights, in memory.

    python bench/gpu_profile.py --tokens 20          # on a GPU (see bench/gpu_bench.sh for the setup)
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_bench import SAMPLING, sync, upstream
from first_audio_bench import build_s3gen, vocode

from bench.random_t3 import build_t3, request
from engines.t3_loop import Decoder
from engines.t3_scheduler import T3Scheduler
from engines.t3_sequences import DTYPES, chatterbox_sequence, generator


def ours(decoder: Decoder, tokens: int, scheduler: T3Scheduler | None) -> None:
    """One request through ``decoder`` alone, or through ``scheduler`` (kept between calls, as the server does)."""
    t3 = decoder.t3
    with torch.inference_mode():
        sequence = chatterbox_sequence(t3, *request(t3, 0), SAMPLING, generator(t3.device, 7), tokens)
        if scheduler is None:
            decoder.decode([sequence])
            return
    scheduler.submit(sequence).wait()


def stages(s3gen: torch.nn.Module, ref: dict, tokens: int, device: str) -> None:
    """Where one S3Gen call's time goes: the flow's encoder, its flow matching, the vocoder (synced)."""
    times: dict[str, float] = collections.defaultdict(float)
    parts = {"flow (all)": (s3gen.flow, "inference"), "flow matching": (s3gen.flow.decoder, "forward")}
    parts["HiFi-GAN"] = (s3gen, "hift_inference")

    def timing(label: str, original: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            sync(device)
            started = time.perf_counter()
            out = original(*args, **kwargs)
            sync(device)
            times[label] += time.perf_counter() - started
            return out

        return run

    for label, (owner, name) in parts.items():
        setattr(owner, name, timing(label, getattr(owner, name)))
    try:
        vocode(s3gen, ref, tokens)
        times.clear()
        started = time.perf_counter()
        vocode(s3gen, ref, tokens)
        total = time.perf_counter() - started
    finally:
        for owner, name in parts.values():
            delattr(owner, name)
    print(f"\n==== S3Gen stages, {tokens} tokens: {total * 1000:.1f} ms in all")
    for label, seconds in times.items():
        print(f"  {label:<14} {seconds * 1000:8.1f} ms")


def report(title: str, device: str, work, rows: int) -> None:  # type: ignore[no-untyped-def]
    work()  # warm-up
    sync(device)
    started = time.perf_counter()
    work()
    sync(device)
    print(f"\n==== {title}: {(time.perf_counter() - started) * 1000:.1f} ms")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        work()
        sync(device)
    events = prof.key_averages()
    print(events.table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=60))
    if device == "cuda":
        print(events.table(sort_by="self_device_time_total", row_limit=rows // 2, max_name_column_width=60))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--rows", type=int, default=24, help="operators listed per table")
    parser.add_argument("--parts", nargs="+", default=["ours", "scheduled", "upstream", "s3gen"])
    parser.add_argument("--graphs", choices=["off", "on"], default="off", help="CUDA graphs (T3 and S3Gen)")
    args = parser.parse_args()
    t3 = build_t3(args.layers, args.device, DTYPES[args.dtype])
    n, graphs = args.tokens, args.graphs == "on"
    decoder = Decoder(t3, "chatterbox", cuda_graphs=graphs)
    if "ours" in args.parts:
        report(f"ours, Decoder.decode, {n} tokens", args.device, lambda: ours(decoder, n, None), args.rows)
    if "scheduled" in args.parts:
        scheduler = T3Scheduler(decoder, max_batch=1, name="profile")
        title = f"ours, through the scheduler, {n} tokens, graphs {args.graphs}"
        report(title, args.device, lambda: ours(decoder, n, scheduler), args.rows)
        scheduler.close()
    if "upstream" in args.parts:
        report(f"upstream T3.inference, {n} tokens", args.device, lambda: upstream(t3, 1, n), args.rows)
    if "s3gen" in args.parts:
        s3gen, ref = build_s3gen(args.device)
        stages(s3gen, ref, 16, args.device)
        if graphs and args.device == "cuda":
            from engines.s3gen_graphs import install

            install(s3gen)
            stages(s3gen, ref, 16, args.device)
        report(
            f"S3Gen, 16 tokens, graphs {args.graphs}", args.device, lambda: vocode(s3gen, ref, 16), args.rows
        )


if __name__ == "__main__":
    main()
